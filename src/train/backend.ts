/**
 * Picks the fastest TensorFlow.js backend this machine can run, in the order tfjs-node-gpu →
 * tfjs-node → wasm → cpu. The native ones are optional dependencies that download libtensorflow at
 * install, which fails on machines without network; the choice is logged.
 */
import * as tf from '@tensorflow/tfjs';

import { BACKEND_ORDER, type BackendName } from './defaults.ts';
export { BACKEND_ORDER, type BackendName };

/** Optional packages, imported by a computed name so a machine without them still type-checks and runs. */
const importOptional = (pkg: string): Promise<unknown> => import(pkg);

async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    switch (name) {
      case 'tfjs-node-gpu':
        await importOptional('@tensorflow/tfjs-node-gpu');
        return (await tf.setBackend('tensorflow')) ? null : 'backend did not initialise';
      case 'tfjs-node':
        await importOptional('@tensorflow/tfjs-node');
        return (await tf.setBackend('tensorflow')) ? null : 'backend did not initialise';
      case 'wasm':
        await import('@tensorflow/tfjs-backend-wasm');
        return (await tf.setBackend('wasm')) ? null : 'backend did not initialise';
      case 'cpu':
        return (await tf.setBackend('cpu')) ? null : 'backend did not initialise';
    }
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'failed';
  }
}

/**
 * Selects a backend: `preferred` alone when given, else the first of BACKEND_ORDER that starts.
 * Returns its name and why the faster ones were skipped.
 */
export async function selectBackend(
  preferred?: BackendName,
): Promise<{ name: BackendName; skipped: { name: BackendName; why: string }[] }> {
  const order = preferred ? [preferred] : BACKEND_ORDER;
  const skipped: { name: BackendName; why: string }[] = [];
  for (const name of order) {
    const why = await tryBackend(name);
    if (why === null) {
      await tf.ready();
      return { name, skipped };
    }
    skipped.push({ name, why });
  }
  throw new Error(
    `no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.why}`).join('; ')}`,
  );
}

export function isBackendName(v: string): v is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(v);
}
