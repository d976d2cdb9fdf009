/**
 * Errors a user can cause (bad input, usage): reported as `file:line:col: message`, exit code 2, no stack trace.
 */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export class InputError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  constructor(message: string, where?: { file?: string; line?: number; column?: number }) {
    super(message);
    this.name = "InputError";
    this.file = where?.file;
    this.line = where?.line;
    this.column = where?.column;
  }
  /** `file:line:col: message` (parts omitted when unknown). */
  format(): string {
    if (!this.file) return this.message;
    let pos = this.file;
    if (this.line !== undefined) pos += `:${this.line}`;
    if (this.column !== undefined) pos += `:${this.column}`;
    return `${pos}: ${this.message}`;
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
