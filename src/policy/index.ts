/**
 * toolgate/policy: the rule engine. Allow / ask / deny rules over tool
 * names, shell commands and paths (`PolicyRules`), policy files with
 * layering and self-tests (`PolicyFile`), and the annotation that tells the
 * engine what a tool's arguments are (`PolicySubject`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as PolicySubject from "./PolicySubject.ts"

/** @since 0.1.0 */
export * as PolicyRules from "./PolicyRules.ts"

/** @since 0.1.0 */
export * as PolicyFile from "./PolicyFile.ts"
