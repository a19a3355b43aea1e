"""An evaluation oracle: `node` scores, signs, shares and settles in one pass (`OracleNode.step`);
`daemon` runs passes until stopped, serving the reports, for the CLI and the SDK alike."""
