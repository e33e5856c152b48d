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

const SIMULATIONS = `test${path.sep}sim${path.sep}`;

/** Whether a suite is under the project's test/sim (wherever the project itself lies). */
const isSimulation = (test) => path.relative(test.context.config.rootDir, test.path).startsWith(SIMULATIONS);

class SimulationsFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter(isSimulation), ...sorted.filter((test) => !isSimulation(test))];
  }
}

module.exports = SimulationsFirst;
