#!/usr/bin/env node
// Validate rendered state machine definitions with the AWS Toolkit's amazon-states-language-service
// (the validator behind the VS Code ASL editor) and with asl-validator. Offline.
//   NODE_PATH=.tools/iac/node/node_modules node tests/iac/asl/validate_asl.js FILE.json ...
// Exit status 1 if either reports an error or a warning for any file.
'use strict';
const fs = require('fs');
const { getLanguageService, TextDocument, DiagnosticSeverity } = require('amazon-states-language-service');
const aslValidator = require('asl-validator');

async function main(files) {
  const service = getLanguageService({});
  let failed = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const doc = TextDocument.create(`file://${file}`, 'json', 0, text);
    const diagnostics = await service.doValidation(doc, service.parseJSONDocument(doc));
    for (const d of diagnostics) {
      const level = d.severity === DiagnosticSeverity.Error ? 'error' : d.severity === DiagnosticSeverity.Warning ? 'warning' : 'info';
      console.log(`${file}:${d.range.start.line + 1}: amazon-states-language-service ${level}: ${d.message}`);
      if (level !== 'info') failed++;
    }
    const { isValid, errors } = aslValidator(JSON.parse(text));
    for (const e of isValid ? [] : errors) {
      console.log(`${file}: asl-validator: ${e['Error code'] || ''} ${e.Message || JSON.stringify(e)}`);
      failed++;
    }
  }
  if (!failed) console.log(`${files.length} state machine definition(s) valid (amazon-states-language-service, asl-validator)`);
  return failed;
}

main(process.argv.slice(2)).then((failed) => process.exit(failed ? 1 : 0), (err) => {
  console.error(err);
  process.exit(2);
});
