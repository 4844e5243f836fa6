// Where the `pol` executable is, from the `pol.server.path` setting. Kept free of the `vscode`
// module so that the tests can run it under plain Node.

import * as fs from 'fs';
import * as path from 'path';

export interface Environment {
  platform: NodeJS.Platform;
  home: string;
  /** The `PATH` environment variable. */
  pathVariable: string | undefined;
  /** `PATHEXT` on Windows. */
  pathExtensions: string | undefined;
  /** The workspace folders' paths, the first first. */
  workspaceFolders: readonly string[];
}

export type Failure =
  /** A bare name not found in any `PATH` directory. */
  | 'notOnPath'
  /** An absolute path (after `~` and `${workspaceFolder}`) to nothing. */
  | 'notFound'
  /** A relative path found in no workspace folder (or there is no folder). */
  | 'notInWorkspace'
  /** A file that exists but cannot be run (a directory, or no execute permission). */
  | 'notExecutable';

export type Resolution =
  | { ok: true; command: string }
  | { ok: false; failure: Failure; configured: string; tried: string[] };

export const DEFAULT_SERVER = 'pol';

/** `~`, `~/…`, `${userHome}` and `${workspaceFolder}` expanded. */
export function expandPath(configured: string, env: Environment): string {
  const p = env.platform === 'win32' ? path.win32 : path.posix;
  let value = configured.trim();
  if (value === '~') {
    value = env.home;
  } else if (/^~[\\/]/.test(value)) {
    value = p.join(env.home, value.slice(2));
  }
  value = value.split('${userHome}').join(env.home);
  if (env.workspaceFolders.length > 0) {
    value = value.split('${workspaceFolder}').join(env.workspaceFolders[0]);
  }
  return value;
}

function isExecutable(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (platform !== 'win32') {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function exists(file: string): boolean {
  try {
    fs.statSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The executable to start for the setting's value, or why there is none. */
export function resolveServerPath(configured: string | undefined, env: Environment): Resolution {
  const p = env.platform === 'win32' ? path.win32 : path.posix;
  const original = configured === undefined || configured.trim() === '' ? DEFAULT_SERVER : configured.trim();
  const value = expandPath(original, env);
  const hasSeparator = value.includes('/') || (env.platform === 'win32' && value.includes('\\'));

  // Candidates in the order they are tried; a Windows name may leave out its extension.
  const withExtensions = (base: string): string[] => {
    if (env.platform !== 'win32') {
      return [base];
    }
    const extensions = (env.pathExtensions || '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '');
    const hasExtension = extensions.some((e) => base.toLowerCase().endsWith(e.toLowerCase()));
    return hasExtension ? [base] : [base, ...extensions.map((e) => base + e)];
  };

  let candidates: string[];
  let failure: Failure;
  if (p.isAbsolute(value)) {
    candidates = withExtensions(p.normalize(value));
    failure = 'notFound';
  } else if (hasSeparator) {
    candidates = env.workspaceFolders.flatMap((folder) => withExtensions(p.resolve(folder, value)));
    failure = 'notInWorkspace';
  } else {
    const directories = (env.pathVariable || '').split(env.platform === 'win32' ? ';' : ':').filter((d) => d !== '');
    candidates = directories.flatMap((dir) => withExtensions(p.join(dir, value)));
    failure = 'notOnPath';
  }

  for (const candidate of candidates) {
    if (isExecutable(candidate, env.platform)) {
      return { ok: true, command: candidate };
    }
  }
  const present = candidates.filter(exists);
  if (present.length > 0) {
    return { ok: false, failure: 'notExecutable', configured: original, tried: present };
  }
  return { ok: false, failure, configured: original, tried: candidates };
}
