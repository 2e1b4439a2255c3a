// What each role may open, as the server decides it (crates/domain/src/role.rs); the UI only
// hides what the server would refuse anyway.

import type { Role } from "./types";

/** Roles that may read the decision log, the statistics and the audit trail. */
export const audits = (role: Role) => role === "supervisor" || role === "admin";

/** The role that manages users and API keys. */
export const administers = (role: Role) => role === "admin";

/** The role that assigns and releases other people's cases. */
export const supervises = (role: Role) => role === "supervisor";

/** Roles that run video identification calls (in the desktop app). */
export const runsCalls = (role: Role) => role === "video_operator" || role === "supervisor" || role === "admin";
