/**
 * toolgate/testing: test doubles. Approval handlers with scripted answers,
 * recording and never-answering (`TestApproval`), and a `LanguageModel`
 * that plays a script of turns (`ScriptedModel`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as TestApproval from "./TestApproval.ts"

/** @since 0.1.0 */
export * as ScriptedModel from "./ScriptedModel.ts"
