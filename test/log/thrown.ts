/** What `action` throws; fails the test when it throws nothing. Lets a test check an error's code and message together. */
export function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected an exception, none was thrown");
}
