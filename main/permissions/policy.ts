import { RISK_ORDER, isDeviceOwnService, isEverydayDevice, isHighRiskDevice, maxRisk, type Effect, type EffectKind, type Risk } from '../common/effects.js';
import { mixedScripts } from '../common/visible-text.js';
import type { ArgumentOrigin, CallProvenance, ValueOrigin } from './provenance.js';

export type Decision = 'allow' | 'ask' | 'deny';

export interface PolicyVerdict {
  readonly decision: Decision;
  /** Plain words for the owner: why it was allowed, why it asks, why it was refused. */
  readonly reason: string;
  readonly risk: Risk;
  /** Whether the owner may answer with a time-limited grant ("allow for 1 hour") instead of a single approval. */
  readonly grantable: boolean;
}

/** A time-limited permission the owner gave for one low-risk effect on one target. */
export interface Grant {
  readonly id: string;
  readonly kind: EffectKind;
  /** The effect's target, exactly: `imessage:+15550001111`, a host, a path. */
  readonly target: string;
  readonly expiresAt: number;
}

/** What config may do: only tighten. Nothing here can make execution or new recipients silent. */
export interface PolicyConfig {
  readonly alwaysAsk: readonly EffectKind[];
  readonly deny: readonly EffectKind[];
}

export interface PolicyInput {
  readonly effect: Effect;
  readonly effectIndex: number;
  readonly provenance: CallProvenance;
  /** Has Pavise already talked with this recipient (a known conversation, or an earlier approved send)? */
  readonly knownRecipient: boolean;
  /** A secret value or handle appears in the arguments. */
  readonly carriesSecret: boolean;
  readonly grants: readonly Grant[];
  readonly config: PolicyConfig;
  readonly paused: boolean;
  readonly now: number;
}

/** Effects that can take data off the machine. */
const EXFILTRATING: ReadonlySet<EffectKind> = new Set(['send_message', 'network']);
/** Effects the owner must approve every time, whoever asked. */
const ALWAYS_ASK: ReadonlySet<EffectKind> = new Set(['execute', 'spend', 'delete']);
/** Effects a time-limited grant may cover. */
const GRANTABLE: ReadonlySet<EffectKind> = new Set(['send_message', 'network', 'write_local', 'modify_calendar', 'control_device']);

export function effectTarget(effect: Effect): string {
  switch (effect.kind) {
    case 'send_message':
      return `${effect.channel}:${effect.recipient}`;
    case 'network':
      return effect.host;
    case 'write_local':
      return effect.path ?? effect.what;
    case 'delete':
      return effect.target;
    case 'control_device':
      return effect.entity;
    case 'execute':
      return effect.argv.join(' ');
    case 'spend':
      return effect.what;
    case 'read_private':
    case 'modify_calendar':
      return effect.what;
  }
}

export function describeOrigin(origin: ValueOrigin): string {
  switch (origin.kind) {
    case 'owner':
      return origin.inThisTurn ? 'you, in this request' : 'you, earlier';
    case 'contact':
      return `your contact ${origin.contactId}`;
    case 'untrusted':
      return `${SOURCE_WORDS[origin.source]}${origin.detail ? ` (${origin.detail})` : ''}`;
    case 'model':
      return 'the model (nobody wrote it)';
  }
}

const SOURCE_WORDS = {
  non_owner_sender: 'a message from someone who is not you',
  web: 'a web page',
  email: 'an email',
  calendar_invite: 'a calendar invite',
  file: 'a file',
  tool_output: 'tool output derived from untrusted content',
} as const;

/**
 * The one policy. Pure: the same inputs always give the same verdict. Order matters — refusals first, then the
 * reasons to ask, then what may run silently.
 */
export function decide(input: PolicyInput): PolicyVerdict {
  const { effect, provenance } = input;
  const kind = effect.kind;
  const origins = provenance.argOrigins.filter((origin) => belongsTo(origin, input.effectIndex));
  const untrustedArgs = origins.filter((origin) => origin.origin.kind === 'untrusted');
  const target = primaryTarget(effect, input.effectIndex, provenance.argOrigins);
  // A recipient resolved from a name counts as named by whoever wrote the name; untrusted wins if either is.
  const alias = provenance.argOrigins.find((origin) => origin.path === `effect${input.effectIndex}.via`);
  const names = provenance.argOrigins.filter((origin) => origin.path === `effect${input.effectIndex}.name`);
  const namedByOwnerNow = [target, alias, ...names].some((origin) => origin?.origin.kind === 'owner' && origin.origin.inThisTurn);

  if (input.paused) return deny('Pavise is paused; run `pavise resume` (or use the pause switch) to allow actions again.');
  if (input.config.deny.includes(kind)) return deny(`Your config forbids ${kind.replace('_', ' ')} actions (permissions.deny).`);

  // A target a contact wrote is, like a stranger's, never where a secret goes; private data to it asks (below).
  const untrustedTarget = [target, alias].find(
    (origin) => origin?.origin.kind === 'untrusted' || (input.carriesSecret && origin?.origin.kind === 'contact'),
  );
  if (EXFILTRATING.has(kind) && untrustedTarget && (input.carriesSecret || provenance.readPrivateData)) {
    return deny(
      `This would send ${input.carriesSecret ? 'a secret' : 'your private data'} to ${untrustedTarget.value}, which came from ` +
        `${describeOrigin(untrustedTarget.origin)} — not from you. Refused.`,
    );
  }
  // A GET carries data in its address as surely as a POST in its body: once the turn has read private data, a
  // request goes only to a host the owner named.
  if (kind === 'network' && provenance.readPrivateData && target?.origin.kind !== 'owner') {
    return deny(
      `This request has read your private data, and ${effect.host || 'this server'} is not a host you named; a request there could carry ` +
        'that data away in its address. Refused — name the site yourself to allow it.',
    );
  }
  // A device told to play or show an address (media_player.play_media, an image, a feed) has Home Assistant, on the
  // owner's network, request it: the same rule, for every host in the service data.
  const dataHosts = origins.filter((origin) => origin.path.startsWith(`effect${input.effectIndex}.dataHost[`));
  const unnamedHost = dataHosts.find((origin) => origin.origin.kind !== 'owner');
  if (unnamedHost && (provenance.readPrivateData || input.carriesSecret)) {
    return deny(
      `This has ${effect.kind === 'control_device' ? effect.entity : 'a device'} fetch an address on ${unnamedHost.value}, after this request read ` +
        `${input.carriesSecret ? 'a secret' : 'your private data'}; ${unnamedHost.value} is not a host you named, and the address could carry that data ` +
        'away. Refused — name the site yourself to allow it.',
    );
  }
  // A command with network access can reach any server (the box shares the host's network: it cannot be held to one
  // host) and can read every granted folder, so the host sees neither where it connects nor what it sends. It is the
  // web rule with the host unseen: once the conversation has read private data or untrusted text, such a command is
  // refused unless the owner wrote every argument of it — then it is the owner's command, not one the model or a
  // page composed around their data. Otherwise it asks, at high risk, saying it has network access.
  if (effect.kind === 'execute' && effect.network === true && (provenance.readPrivateData || provenance.tainted)) {
    const argv = origins.filter((origin) => origin.path.startsWith(`effect${input.effectIndex}.argv[`));
    const notOwners = argv.find((origin) => origin.origin.kind !== 'owner');
    if (notOwners || argv.length === 0) {
      return deny(
        `This command asks for network access after this conversation read ${provenance.readPrivateData ? 'your private data' : taintWords(provenance)}, ` +
          `and ${notOwners ? `"${notOwners.value}" came from ${describeOrigin(notOwners.origin)}` : 'you did not write it'}: with network it could carry that ` +
          'data to any server. Refused — write the whole command yourself (or start a new conversation) to allow it.',
      );
    }
  }
  if (EXFILTRATING.has(kind) && input.carriesSecret) {
    return ask('high', `It would send a secret off this Mac.${provenance.tainted ? ` This request has read ${taintWords(provenance)}.` : ''}`);
  }

  if (provenance.trigger.kind !== 'owner') {
    const who = provenance.trigger.kind === 'contact' ? `your contact ${provenance.trigger.contactId}` : describeOrigin({ kind: 'untrusted', source: provenance.trigger.source });
    return ask('high', `This was started by ${who}, not by you.`);
  }

  if (kind === 'read_private') return allow('low', 'Reading your own data is allowed.');
  // A command the host matched against the owner's read-only list runs in a read-only box inside granted folders: a
  // read, like read_file, whoever named its arguments.
  if (effect.kind === 'execute' && effect.readOnly === true && effect.network !== true && !input.config.alwaysAsk.includes('execute')) {
    return allow('low', 'A read-only command inside a folder you granted.');
  }

  if (untrustedArgs.length > 0) {
    const first = untrustedArgs[0] as ArgumentOrigin;
    // Name what else was read too: the instruction may have come from a different place than the value.
    const read = provenance.taintSources
      .map((source) => describeOrigin({ kind: 'untrusted', ...source }))
      .filter((words) => words !== describeOrigin(first.origin));
    const also = read.length > 0 ? ` This request also read ${read.join(', ')}.` : '';
    return ask('high', `"${first.value}" came from ${describeOrigin(first.origin)} — not from you.${also}`);
  }

  const dataEntities = origins.filter((origin) => origin.path.startsWith(`effect${input.effectIndex}.dataEntity[`)).map((origin) => origin.value);
  const highRisk = effect.kind === 'control_device' ? [effect.entity, ...dataEntities].find(isHighRiskDevice) : undefined;
  if (highRisk !== undefined) {
    return ask('high', `${highRisk} is a lock, alarm, camera, door or garage: Pavise always asks before controlling it.`, false);
  }

  if (effect.kind === 'execute' && effect.network === true) {
    const read = provenance.tainted ? ` This request has read ${taintWords(provenance)}.` : '';
    return ask('high', `Running a command WITH NETWORK ACCESS always needs your approval: it can reach any server.${read}`);
  }
  if (ALWAYS_ASK.has(kind) && !provenance.tainted) {
    const what = { execute: 'Running a command', spend: 'Spending money', delete: 'Deleting' }[kind as 'execute' | 'spend' | 'delete'];
    return ask('high', `${what} always needs your approval.`);
  }

  if (provenance.tainted) {
    return ask(kind === 'write_local' ? 'medium' : 'high', `This request has read ${taintWords(provenance)}; it may be acting on instructions in it.`);
  }

  let verdict: PolicyVerdict;
  switch (kind) {
    case 'send_message': {
      const mixed = mixedScripts(effect.recipient);
      if (!input.knownRecipient && mixed.length > 0) {
        // Decided on the Mac only: on a card it reads as the address it imitates.
        verdict = ask(
          'high',
          `${effect.recipient} is a new recipient whose address mixes ${mixed.join(' and ')} letters: it may only look like someone you know.`,
          false,
        );
      } else if (!input.knownRecipient) {
        verdict = ask('medium', `${effect.recipient} is a new recipient: Pavise has never written to them.`, false);
      } else if (namedByOwnerNow) {
        verdict = allow('low', `You asked for this message to ${effect.recipient} yourself.`);
      } else {
        verdict = ask('low', `You did not name ${effect.recipient} in this request.`);
      }
      break;
    }
    case 'network':
      verdict =
        target?.origin.kind === 'owner'
          ? allow('low', `You named ${effect.host}.`)
          : ask('medium', `Pavise chose to contact ${effect.host || 'a server'}; you did not name it.`);
      break;
    case 'write_local':
    case 'modify_calendar':
      verdict = allow('low', 'You asked for this yourself.');
      break;
    case 'control_device':
      // Lights and media the owner's own request reached run; any other device asks (never granted for a time).
      if (unnamedHost) {
        verdict = ask('medium', `${effect.kind === 'control_device' ? effect.entity : 'The device'} would fetch an address on ${unnamedHost.value}, a host you did not name.`, false);
      } else if (dataEntities.length > 0) {
        verdict = ask('low', `The service data also names ${dataEntities.join(', ')}.`, false);
      } else if (effect.kind === 'control_device' && isEverydayDevice(effect.entity) && !isDeviceOwnService(effect.entity, effect.action)) {
        // homeassistant.stop or .restart "on" a light runs Home Assistant itself (and every alarm and camera with it).
        verdict = ask('medium', `${effect.action} is not a service of ${effect.entity} alone: it acts beyond that device.`, false);
      } else if (effect.kind === 'control_device' && effect.entity.startsWith('shortcut.')) {
        verdict = ask('low', `Running the shortcut "${effect.entity.slice(9)}" asks each time unless you allow it for a while.`);
      } else if (effect.kind === 'control_device' && isEverydayDevice(effect.entity)) {
        verdict = target?.origin.kind === 'owner' ? allow('low', 'You asked for this yourself.') : ask('low', `Pavise chose ${effect.entity}; you did not name it.`);
      } else {
        verdict = ask('medium', `Controlling ${effect.kind === 'control_device' ? effect.entity : 'this device'} needs your approval.`, false);
      }
      break;
    default:
      verdict = ask('high', 'This kind of action needs your approval.');
  }

  if (!GRANTABLE.has(kind)) verdict = { ...verdict, grantable: false };
  if (verdict.decision === 'allow' && input.config.alwaysAsk.includes(kind)) {
    verdict = ask(verdict.risk, `Your config asks before every ${kind.replace('_', ' ')} action (permissions.alwaysAsk).`);
  }
  if (verdict.decision === 'ask' && verdict.grantable && matchingGrant(input)) {
    verdict = allow(verdict.risk, 'You allowed this for a limited time.');
  }
  return verdict;
}

/** Everything untrusted the turn read, in the owner's words. */
function taintWords(provenance: CallProvenance): string {
  return provenance.taintSources.map((source) => describeOrigin({ kind: 'untrusted', ...source })).join(', ');
}

/** The strictest verdict over all of a call's effects. A call with no effects is allowed. */
export function combine(verdicts: readonly PolicyVerdict[]): PolicyVerdict {
  if (verdicts.length === 0) return allow('low', 'This action has no effects.');
  const rank = { allow: 0, ask: 1, deny: 2 } as const;
  let worst = verdicts[0] as PolicyVerdict;
  for (const verdict of verdicts.slice(1)) {
    if (rank[verdict.decision] > rank[worst.decision] || (rank[verdict.decision] === rank[worst.decision] && RISK_ORDER[verdict.risk] > RISK_ORDER[worst.risk])) {
      worst = verdict;
    }
  }
  const risk = verdicts.reduce<PolicyVerdict['risk']>((acc, verdict) => maxRisk(acc, verdict.risk), 'low');
  return { ...worst, risk, grantable: verdicts.every((verdict) => verdict.grantable) };
}

function matchingGrant(input: PolicyInput): boolean {
  const target = effectTarget(input.effect);
  return input.grants.some((grant) => grant.kind === input.effect.kind && grant.target === target && grant.expiresAt > input.now);
}

function belongsTo(origin: ArgumentOrigin, effectIndex: number): boolean {
  return !origin.path.startsWith('effect') || origin.path.startsWith(`effect${effectIndex}.`);
}

function primaryTarget(effect: Effect, index: number, origins: readonly ArgumentOrigin[]): ArgumentOrigin | undefined {
  const field = { send_message: 'recipient', network: 'host', delete: 'target', write_local: 'path', execute: 'argv[0]', spend: 'amount', control_device: 'entity' }[
    effect.kind as string
  ];
  return field ? origins.find((origin) => origin.path === `effect${index}.${field}`) : undefined;
}

function allow(risk: Risk, reason: string): PolicyVerdict {
  return { decision: 'allow', reason, risk, grantable: false };
}

function ask(risk: Risk, reason: string, grantable = risk === 'low'): PolicyVerdict {
  return { decision: 'ask', reason, risk, grantable: grantable && risk === 'low' };
}

function deny(reason: string): PolicyVerdict {
  return { decision: 'deny', reason, risk: 'high', grantable: false };
}
