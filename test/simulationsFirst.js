/**
 * Jest runs the simulation suites (test/sim) before every other suite.
 *
 * A simulation fails loudly when real timers or sockets appear while it runs (test/sim/runLoop.ts),
 * and it counts them process-wide. Jest runs many suites in one process, so a socket still closing
 * after an earlier suite's gRPC test, or that suite's last timer, would be blamed on the simulation.
 * Suites are handed to workers in this order, so when the simulations come first, only other
 * simulations (which start no real asynchronous work) can have run before one.
 */
const Sequencer = require("@jest/test-sequencer").default;
const path = require("node:path");

const SIMULATIONS = `${path.sep}test${path.sep}sim${path.sep}`;

class SimulationsFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((test) => test.path.includes(SIMULATIONS)), ...sorted.filter((test) => !test.path.includes(SIMULATIONS))];
  }
}

module.exports = SimulationsFirst;
