import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

/** One ES256 signing key of the embedded issuer. */
export interface SigningKey {
  /** RFC 7638 JWK thumbprint of the public key; also the file name. */
  readonly kid: string;
  /** Higher = newer; the highest is the active key. */
  readonly serial: number;
  readonly createdAt: string;
  readonly privateKey: CryptoKey;
  /** Public JWK with `kid`, `alg`, `use`, as published in the JWKS. */
  readonly publicJwk: JWK;
}

/** The issuer's keys on disk: one file per key, mode 0600, in a 0700 directory. */
export interface KeyRing {
  /** The key new tokens are signed with. */
  active(): SigningKey;
  /** Every key still published (active first). */
  keys(): readonly SigningKey[];
  /** Creates a new key and makes it active; older keys stay published until {@link remove}d. */
  rotate(): Promise<SigningKey>;
  /** Deletes a retired key: tokens it signed stop verifying. The active key cannot be removed. */
  remove(kid: string): Promise<void>;
}

interface StoredKey {
  readonly kid: string;
  readonly serial: number;
  readonly createdAt: string;
  readonly privateJwk: JWK;
}

const SUFFIX = '.es256.jwk.json';
const ALG = 'ES256';

/**
 * Opens the key ring in `dir`, creating the directory and a first key when there is none. Refuses
 * key files that group or others can read (like ssh does): a leaked signing key lets anyone mint
 * tokens for any role.
 */
export async function openKeyRing(dir: string, now: () => Date = () => new Date()): Promise<KeyRing> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ring: SigningKey[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(SUFFIX)).sort()) {
    ring.push(await loadKey(join(dir, name), name.slice(0, -SUFFIX.length)));
  }
  const sort = () => ring.sort((a, b) => b.serial - a.serial);
  sort();
  const create = async (): Promise<SigningKey> => {
    const key = await createKey(dir, (ring[0]?.serial ?? 0) + 1, now());
    ring.push(key);
    sort();
    return key;
  };
  if (ring.length === 0) await create();
  return {
    active: () => ring[0]!,
    keys: () => [...ring],
    rotate: create,
    remove: async (kid) => {
      const i = ring.findIndex((k) => k.kid === kid);
      if (i < 0) throw new Error(`no signing key ${kid}`);
      if (i === 0) throw new Error(`key ${kid} is the active signing key; rotate first`);
      await rm(join(dir, `${kid}${SUFFIX}`));
      ring.splice(i, 1);
    },
  };
}

async function createKey(dir: string, serial: number, at: Date): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicPart(privateJwk));
  const stored: StoredKey = { kid, serial, createdAt: at.toISOString(), privateJwk };
  const file = join(dir, `${kid}${SUFFIX}`);
  const tmp = `${file}.${randomUUID()}.tmp`;
  // Created 0600 from the first byte (flag wx: never through an existing file), then renamed into place.
  await writeFile(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return toSigningKey(stored, await importJWK(privateJwk, ALG));
}

async function loadKey(file: string, kidFromName: string): Promise<SigningKey> {
  if (process.platform !== 'win32' && ((await stat(file)).mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by group or others; run chmod 600 on it`);
  }
  let stored: StoredKey;
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as StoredKey;
  } catch (err) {
    throw new Error(`${file}: not a dxhub key file`, { cause: err });
  }
  const kid = await calculateJwkThumbprint(publicPart(stored.privateJwk));
  if (kid !== stored.kid || kid !== kidFromName) throw new Error(`${file}: kid does not match the key`);
  return toSigningKey(stored, await importJWK(stored.privateJwk, ALG));
}

function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y } = jwk;
  return { kty, crv, x, y };
}

function toSigningKey(stored: StoredKey, privateKey: CryptoKey | Uint8Array): SigningKey {
  if (privateKey instanceof Uint8Array || privateKey.type !== 'private') throw new Error('not an ES256 private key');
  return {
    kid: stored.kid,
    serial: stored.serial,
    createdAt: stored.createdAt,
    privateKey,
    publicJwk: { ...publicPart(stored.privateJwk), kid: stored.kid, alg: ALG, use: 'sig' },
  };
}
