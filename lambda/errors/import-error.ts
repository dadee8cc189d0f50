/**
 * The one error type the handler throws: its message is a sentence safe to show in CloudFormation
 * events and logs (errors/sentences.ts writes them).
 */

/** A failure whose message is safe to show in CloudFormation events and logs. */
export class ImportError extends Error {
  /** @param code the name of the AWS error behind it, if any (for callers that decide on it; never shown). */
  constructor(message: string, public readonly code?: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** Which step failed, so the message can say what the handler was doing. */
export type Step = 'read-secret' | 'get-parameters' | 'import' | 'import-new' | 'rotate' | 'describe-key' | 'list-materials' | 'last-usage' | 'delete-material' | 'import-upload' | 'import-upload-new';
