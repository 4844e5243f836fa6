// The Pol extension: the language client for `pol lsp` (diagnostics, hover, definition,
// references, completion, outline, and whatever else the server announces, such as formatting).
// Highlighting is the TextMate grammar in syntaxes/ and needs no server.

import * as os from 'os';
import * as vscode from 'vscode';
import {
  CloseAction,
  CloseHandlerResult,
  ErrorAction,
  ErrorHandler,
  ErrorHandlerResult,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { DEFAULT_SERVER, Resolution, resolveServerPath } from './serverPath';

const INSTALL_COMMAND = 'cargo install --path compiler/cli';
/** A server that stops more often than this within the window is left stopped. */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/**
 * The client, quiet while it starts: a failed start is reported once, by `start` below, in the
 * display language, instead of by the client library's own English notifications.
 */
class PolLanguageClient extends LanguageClient {
  quiet = false;
  /** The last error the library logged while quiet. */
  lastError: string | undefined;

  override error(message: string, data?: unknown, showNotification: boolean | 'force' = true): void {
    if (this.quiet) {
      const detail = (data as { message?: unknown } | undefined)?.message;
      this.lastError = typeof detail === 'string' && detail !== '' ? detail : message;
    }
    super.error(message, data, this.quiet ? false : showNotification);
  }

  /**
   * When the server exits during `initialize`, the library (8.1) resolves `start` with nothing
   * and leaves its own start promise rejected with nobody waiting for it; `start` below finds the
   * client not running and reports the failure, so that promise is marked as handled here.
   */
  override start(): Promise<void> {
    const result = super.start();
    const internal = (this as unknown as { _onStart?: Promise<void> })._onStart;
    if (internal !== undefined && internal !== result) {
      internal.catch(() => undefined);
    }
    return result;
  }

  /**
   * The library stops a client whose start failed, which it cannot do while the client is still
   * starting; that refusal is logged rather than left as an unhandled rejection.
   */
  override stop(timeout?: number): Promise<void> {
    return super.stop(timeout).catch((error: unknown) => {
      if (this.isRunning()) {
        throw error;
      }
      this.outputChannel.appendLine(error instanceof Error ? error.message : String(error));
    });
  }
}

class PolErrorHandler implements ErrorHandler {
  private stops: number[] = [];

  /** `serving` says whether this handler's client started and is still the current one. */
  constructor(private readonly serving: () => boolean) {}

  error(_error: Error, _message: unknown, count: number | undefined): ErrorHandlerResult {
    return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown };
  }

  closed(): CloseHandlerResult {
    if (!this.serving()) {
      // The server went away before it answered `initialize` (`start` says why), or the
      // client was replaced meanwhile.
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const now = Date.now();
    this.stops = this.stops.filter((t) => now - t < RESTART_WINDOW_MS);
    this.stops.push(now);
    if (this.stops.length <= MAX_RESTARTS) {
      return { action: CloseAction.Restart, message: vscode.l10n.t('The Pol language server stopped; restarting it.') };
    }
    return {
      action: CloseAction.DoNotRestart,
      message: vscode.l10n.t(
        'The Pol language server stopped {0} times in 3 minutes and will not be restarted. See the "Pol" output, then run "Pol: Restart Language Server".',
        String(this.stops.length),
      ),
    };
  }
}

let output: vscode.OutputChannel;
let status: vscode.LanguageStatusItem;
let client: PolLanguageClient | undefined;
let starting = false;
/** Starts and stops run one after another, never interleaved. */
let queue: Promise<void> = Promise.resolve();

function enqueue(task: () => Promise<void>): Promise<void> {
  queue = queue.then(task, task);
  return queue;
}

export function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Pol');
  status = vscode.languages.createLanguageStatusItem('pol.server', { language: 'pol' });
  status.name = vscode.l10n.t('Pol language server');
  status.command = { title: vscode.l10n.t('Restart'), command: 'pol.restartServer' };
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand('pol.restartServer', () => enqueue(restart)),
    vscode.commands.registerCommand('pol.showOutput', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('pol.server')) {
        void enqueue(restart);
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void enqueue(restart)),
  );
  return enqueue(start);
}

export function deactivate(): Promise<void> {
  return enqueue(stop);
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

function showStatus(state: 'starting' | 'running' | 'stopped', detail?: string): void {
  status.busy = state === 'starting';
  status.severity = state === 'stopped' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
  status.text =
    state === 'starting'
      ? vscode.l10n.t('Pol: starting')
      : state === 'running'
        ? vscode.l10n.t('Pol: running')
        : vscode.l10n.t('Pol: not running');
  status.detail = detail;
}

function environment(): Parameters<typeof resolveServerPath>[1] {
  return {
    platform: process.platform,
    home: os.homedir(),
    pathVariable: process.env.PATH ?? process.env.Path,
    pathExtensions: process.env.PATHEXT,
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
  };
}

/** Why the resolved setting names no executable, in the display language. */
function describeFailure(resolution: Exclude<Resolution, { ok: true }>): string {
  switch (resolution.failure) {
    case 'notOnPath':
      return vscode.l10n.t('"{0}" was not found on PATH', resolution.configured);
    case 'notFound':
      return vscode.l10n.t('the file {0} does not exist', resolution.tried[0] ?? resolution.configured);
    case 'notInWorkspace':
      return vscode.l10n.t('"{0}" was not found in any workspace folder', resolution.configured);
    case 'notExecutable':
      return vscode.l10n.t('{0} is not an executable file', resolution.tried[0] ?? resolution.configured);
  }
}

async function reportStartFailure(command: string, reason: string): Promise<void> {
  const message = vscode.l10n.t(
    'Could not start the Pol language server ({0}): {1}. Install pol by running "{2}" in the Pol repository, or set "pol.server.path" to the pol executable.',
    command,
    reason,
    INSTALL_COMMAND,
  );
  output.appendLine(message);
  showStatus('stopped', reason);
  const openSettings = vscode.l10n.t('Open Settings');
  const showOutput = vscode.l10n.t('Show Output');
  const retry = vscode.l10n.t('Retry');
  const choice = await vscode.window.showErrorMessage(message, openSettings, showOutput, retry);
  if (choice === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'pol.server.path');
  } else if (choice === showOutput) {
    output.show(true);
  } else if (choice === retry) {
    await enqueue(restart);
  }
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration('pol');
  const configured = config.get<string>('server.path', DEFAULT_SERVER);
  const extraArgs = config.get<string[]>('server.extraArgs', []).filter((a) => typeof a === 'string');
  const env = environment();
  const resolution = resolveServerPath(configured, env);
  if (!resolution.ok) {
    if (resolution.tried.length > 0) {
      output.appendLine(vscode.l10n.t('Looked for the language server at: {0}', resolution.tried.join(', ')));
    }
    void reportStartFailure(resolution.configured, describeFailure(resolution));
    return;
  }

  const args = ['lsp', ...extraArgs];
  output.appendLine(vscode.l10n.t('Starting the Pol language server: {0}', [resolution.command, ...args].join(' ')));
  showStatus('starting', resolution.command);
  const serverOptions: ServerOptions = {
    command: resolution.command,
    args,
    options: env.workspaceFolders.length > 0 ? { cwd: env.workspaceFolders[0] } : {},
  };
  // Whether this client reached Running: only then does a closed connection restart it.
  let started = false;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'pol' }],
    // The server answers in Chinese or English: it reads `lang` here or `locale` of `initialize`.
    initializationOptions: { lang: vscode.env.language },
    outputChannel: output,
    traceOutputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    // A failed `initialize` is reported by `start` below, not by the client library.
    initializationFailedHandler: () => false,
    errorHandler: new PolErrorHandler(() => client === c && started),
  };
  const c = new PolLanguageClient('pol', vscode.l10n.t('Pol language server'), serverOptions, clientOptions);
  c.onDidChangeState((e) => {
    if (client !== c) {
      return;
    }
    if (e.newState === State.Running) {
      started = true;
      showStatus('running', resolution.command);
    } else if (e.newState === State.Starting) {
      showStatus('starting', resolution.command);
    } else if (!starting) {
      showStatus('stopped', vscode.l10n.t('See the "Pol" output.'));
    }
  });
  client = c;
  starting = true;
  c.quiet = true;
  let failure: string | undefined;
  try {
    await c.start();
    // A server that exits while it starts can leave `start` resolved but the client stopped.
    if (!c.isRunning()) {
      failure = c.lastError ?? vscode.l10n.t('the connection closed');
    }
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  } finally {
    starting = false;
    c.quiet = false;
  }
  if (failure !== undefined) {
    if (client === c) {
      client = undefined;
    }
    try {
      await c.dispose();
    } catch {
      // A client that never started has nothing to shut down.
    }
    void reportStartFailure(
      resolution.command,
      vscode.l10n.t('the server exited or did not answer ({0}); check that this pol has the "lsp" command', failure),
    );
    return;
  }
  showStatus('running', resolution.command);
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c === undefined) {
    return;
  }
  try {
    if (c.needsStop()) {
      await c.stop();
    }
  } catch (error) {
    output.appendLine(error instanceof Error ? error.message : String(error));
  }
  showStatus('stopped');
}
