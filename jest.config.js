/** Tests run against the TypeScript sources through ts-jest; multi-process tests spawn the compiled CLI from dist/. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testTimeout: 30000,
  // The simulations count real timers and sockets process-wide: run them before any suite that opens some.
  testSequencer: "<rootDir>/test/simulationsFirst.js",
};
