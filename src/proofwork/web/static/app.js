// proofwork: the little JavaScript the pages need. Times in the visitor's locale; acting through an
// injected EIP-1193 wallet (window.ethereum): the server returns what to sign (a permit, then unsigned
// transactions); the wallet signs each (eth_signTransaction) and the server checks and sends it, or a
// wallet that only sends (eth_sendTransaction) sends it and this script polls /tx/<hash>.json.
"use strict";

const pw = { account: null };

function localTimes(root) {
  for (const el of (root || document).querySelectorAll("time[data-unix]")) {
    const d = new Date(Number(el.dataset.unix) * 1000);
    el.textContent = d.toLocaleString();
    el.title = el.getAttribute("datetime");
  }
}

function say(form, text, isError) {
  const out = form.querySelector(".result");
  if (!out) return;
  out.textContent = text;
  out.classList.toggle("error", Boolean(isError));
}

function walletStatus() {
  const el = document.getElementById("wallet-status");
  const button = document.getElementById("connect");
  if (pw.account) {
    el.textContent = "Wallet connected: " + pw.account;
    button.textContent = "Connected";
  } else {
    el.textContent = window.ethereum ? "Read-only: connect your wallet to act." : "Read-only: no wallet found in this browser.";
  }
}

async function connect() {
  if (!window.ethereum) { walletStatus(); return null; }
  const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
  pw.account = accounts && accounts.length ? accounts[0] : null;
  const wanted = document.body.dataset.chainId;
  if (wanted) {
    const chainId = await window.ethereum.request({ method: "eth_chainId" });
    if (parseInt(chainId, 16) !== Number(wanted)) {
      try {
        await window.ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + Number(wanted).toString(16) }] });
      } catch (e) {
        document.getElementById("wallet-status").textContent = "Your wallet is on chain " + parseInt(chainId, 16) + "; switch it to chain " + wanted + ".";
        return pw.account;
      }
    }
  }
  walletStatus();
  return pw.account;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(hash) {
  for (let i = 0; i < 600; i++) {
    const response = await fetch("/tx/" + hash + ".json", { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || "cannot read transaction " + hash);
    if (body.status === "success") return body;
    if (body.status === "failed") throw new Error("transaction " + hash + " reverted: nothing was paid");
    await sleep(500);
  }
  throw new Error("transaction " + hash + " not mined yet: check it later");
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// POSTs form data with the page's CSRF token; the answer's JSON, or an Error with the server's reason.
async function post(url, data) {
  const response = await fetch(url, {
    method: "POST",
    body: data,
    headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
  });
  let body = {};
  try { body = await response.json(); } catch (e) { /* not JSON: the status says it */ }
  if (!response.ok) throw new Error(body.error || "the server refused: " + response.status);
  return body;
}

// The wallet cannot sign without sending (MetaMask has no eth_signTransaction).
function unsupported(e) {
  return Boolean(e) && (e.code === 4200 || e.code === -32601 || /unsupported|not supported|does not exist/i.test(e.message || ""));
}

// One prepared transaction: signed by the wallet and sent through the server, which checks it (this
// chain, this account, the call it prepared); or, with a wallet that only sends, sent by the wallet.
async function signAndSend(form, tx) {
  say(form, "Confirm in your wallet: " + tx.label + "…");
  const fields = { from: pw.account, to: tx.to, data: tx.data, value: tx.value, chainId: tx.chainId, gas: tx.gas, maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas, type: tx.type };
  let raw = null;
  try {
    raw = await window.ethereum.request({ method: "eth_signTransaction", params: [{ ...fields, nonce: tx.nonce }] });
  } catch (e) {
    if (!unsupported(e)) throw e;
  }
  if (raw) {
    const data = new FormData();
    data.set("from", pw.account);
    data.set("raw", raw);
    say(form, "Sending " + tx.label + "…");
    return post("/actions/tx", data);
  }
  const hash = await window.ethereum.request({ method: "eth_sendTransaction", params: [fields] });
  say(form, "Waiting for " + tx.label + " (" + hash.slice(0, 10) + "…)");
  return waitFor(hash);
}

async function sendAll(form, txs) {
  const mined = [];
  for (const tx of txs) mined.push(await signAndSend(form, tx));
  return mined;
}

async function act(form) {
  const data = new FormData(form);
  const devSigner = data.get("sign_as");
  if (!devSigner) {
    if (!pw.account && !(await connect())) throw new Error("connect a wallet to act (or browse read-only)");
    data.set("from", pw.account);
  }
  say(form, "Preparing…");
  let body = await post(form.dataset.action, data);
  if (body.typed_data) {
    say(form, form.dataset.kind === "buy" ? "Sign the permit that lets the licensing contract take the price…" : "Sign the permit that lets the escrow take the budget…");
    const signature = await window.ethereum.request({
      method: "eth_signTypedData_v4",
      params: [pw.account, JSON.stringify(body.typed_data)],
    });
    data.set("permit_deadline", String(body.typed_data.message.deadline));
    data.set("permit_signature", signature);
    say(form, "Preparing…");
    body = await post(form.dataset.action, data);
  }
  let jobId = body.job_id;
  let licenceId = body.licence_id;
  if (body.sent) {
    for (const hash of body.sent) await waitFor(hash);
  } else {
    const mined = await sendAll(form, body.txs);
    for (const m of mined) {
      if (m.jobs_created && m.jobs_created.length) jobId = m.jobs_created[0];
      if (m.licences_bought && m.licences_bought.length) licenceId = m.licences_bought[0];
    }
    if (body.register) {
      say(form, "Registering the evaluation of job " + jobId + "…");
      const wallet = new FormData();
      wallet.set("from", pw.account);
      const reg = await post("/actions/jobs/" + jobId + "/register", wallet);
      await sendAll(form, reg.txs);
    }
  }
  say(form, "Done.");
  const what = { post: "job " + jobId + " posted and funded", submit: "work submitted", approve: "milestone approved and paid", buy: "licence " + licenceId + " bought" };
  sessionStorage.setItem("pw-flash", "Done: " + (what[form.dataset.kind] || "sent") + ".");
  if (form.dataset.kind === "post" && jobId) window.location.assign("/jobs/" + jobId);
  else if (form.dataset.kind === "buy" && licenceId) window.location.assign("/licences/" + licenceId);
  else window.location.reload();
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes();
  walletStatus();
  const flash = sessionStorage.getItem("pw-flash");
  if (flash) {
    sessionStorage.removeItem("pw-flash");
    const el = document.getElementById("flash");
    el.textContent = flash;
    el.hidden = false;
  }
  document.getElementById("connect").addEventListener("click", () => connect().catch((e) => {
    document.getElementById("wallet-status").textContent = "Wallet: " + (e.message || e);
  }));
  if (window.ethereum && window.ethereum.on) {
    window.ethereum.on("accountsChanged", (accounts) => { pw.account = accounts[0] || null; walletStatus(); });
  }
  for (const form of document.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      act(form).catch((e) => say(form, e.message || String(e), true)).finally(() => { button.disabled = false; });
    });
  }
});
