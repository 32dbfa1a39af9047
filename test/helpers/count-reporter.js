// Mocha reporter: mocha's spec output, plus the pass/fail counts appended to $CNM_COUNT_FILE
// so scripts/test.sh can print one "N passed, N failed" line over several mocha runs.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.CNM_COUNT_FILE;
      if (!file) return;
      const s = runner.stats || {};
      fs.appendFileSync(file, `${s.passes || 0} ${s.failures || 0} ${s.pending || 0}\n`);
    });
  }
}
module.exports = CountReporter;
