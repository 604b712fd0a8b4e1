import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** sha256 of a file's bytes, hex. */
export const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
