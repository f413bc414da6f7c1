/** The word the emergency-stop dialog asks for. */
export const STOP_WORD = "STOP";

/** Whether what was typed confirms the emergency stop: the word in any case, spaces around ignored. */
export function confirmsStop(typed: string): boolean {
  return typed.trim().toUpperCase() === STOP_WORD;
}
