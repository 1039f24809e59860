// The spec reporter, plus the closing line `N passed, N failed` that CI reads.
const Mocha = require('mocha');

class SpecWithTotals extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      console.log(`${this.stats.passes} passed, ${this.stats.failures} failed`);
    });
  }
}

module.exports = SpecWithTotals;
