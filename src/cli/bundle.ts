/** Opening a bundle of the kind a command needs, for the length of that command. */
import type { BundleManifest } from '../music/bundle.ts';
import { BundleError } from '../music/errors.ts';
import { LstmSession } from '../model/lstmSession.ts';

/** Loads `model`, refuses it unless it is of `kind`, runs `fn`, and always releases the session. */
export async function withBundle<T>(
  model: string,
  kind: BundleManifest['kind'],
  fn: (session: LstmSession) => Promise<T>,
): Promise<T> {
  const session = await LstmSession.load(model);
  try {
    if (session.manifest.kind !== kind) {
      const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
      throw new BundleError(
        model,
        'kind',
        `expected ${article} ${kind} bundle, found '${session.manifest.kind}'`,
      );
    }
    return await fn(session);
  } finally {
    await session.dispose();
  }
}
