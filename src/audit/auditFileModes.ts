/** Files the auditor writes are for its operator: owner only, like the state they derive from. */
export const AUDIT_FILE_MODE = 0o600;
export const AUDIT_FOLDER_MODE = 0o700;
