/** Tests run on the TypeScript sources as ESM (ts-jest default-esm under
 *  --experimental-vm-modules); `./x.js` specifiers are mapped back to `./x`. */
export default {
  preset: "ts-jest/presets/default-esm",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, diagnostics: false }],
  },
  testTimeout: 60000,
};
