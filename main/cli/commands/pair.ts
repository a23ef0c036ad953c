import { compose } from '../../compose.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

/** `pavise pair telegram`: a one-time code the owner sends to the bot; their user id becomes an owner. */
export async function pairCommand(args: string[], io: CliIO): Promise<number> {
  const { positionals } = parseCommandArgs('pair', args, {}, { min: 1, max: 1, usage: 'telegram' });
  if (positionals[0] !== 'telegram') {
    throw new UsageError(`Only Telegram pairs by code ("pavise pair telegram"); iMessage owners go in config.json under channels.imessage.owners.`);
  }
  const services = await compose({ env: io.env });
  try {
    const { code, expiresAt } = services.pairing.create('telegram');
    services.activity.append({ kind: 'system', summary: 'Created a Telegram pairing code', actor: 'owner:cli', detail: { expiresAt } });
    const minutes = Math.round((expiresAt - Date.now()) / 60_000);
    io.stdout.write(`Send this code to your Pavise bot on Telegram within ${minutes} minutes:\n\n    ${code}\n\n`);
    io.stdout.write('The account that sends it becomes an owner. The code works once. `pavise gateway` (or the menu-bar app) must be running.\n');
    if (!services.config.channels.telegram.enabled) {
      io.stderr.write('Note: Telegram is not enabled: set channels.telegram.enabled to true in config.json and store the bot token with `pavise secrets set telegram-bot-token`.\n');
    } else if ((await services.secrets.get('telegram-bot-token').catch(() => undefined)) === undefined) {
      io.stderr.write('Note: no Telegram bot token is stored, so no bot can receive the code yet: store it with `pavise secrets set telegram-bot-token` (the token @BotFather gave you), then start `pavise gateway`.\n');
    }
    return EXIT.ok;
  } finally {
    services.close();
  }
}
