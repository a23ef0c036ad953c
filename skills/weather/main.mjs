// The weather skill: JSON-RPC over stdin/stdout. It has no network of its own; it asks the host (net/fetch), which
// lets the request through only to the hosts the owner granted.
import { createInterface } from 'node:readline';

const CODES = { 0: 'clear', 1: 'mainly clear', 2: 'partly cloudy', 3: 'overcast', 45: 'fog', 48: 'fog', 51: 'light drizzle', 53: 'drizzle', 55: 'heavy drizzle', 61: 'light rain', 63: 'rain', 65: 'heavy rain', 71: 'light snow', 73: 'snow', 75: 'heavy snow', 80: 'showers', 81: 'showers', 82: 'violent showers', 95: 'thunderstorm', 96: 'thunderstorm with hail', 99: 'thunderstorm with hail' };

let nextId = 1;
const waiting = new Map();
const send = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);

function hostRequest(method, params) {
  const id = `w${nextId++}`;
  send({ id, method, params });
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}

async function forecast({ latitude, longitude, days = 3 }) {
  const query = new URLSearchParams({
    latitude: String(latitude),
    longitude: String(longitude),
    current: 'temperature_2m,weather_code,wind_speed_10m',
    daily: 'temperature_2m_max,temperature_2m_min,precipitation_probability_max,weather_code',
    timezone: 'auto',
    forecast_days: String(days),
  });
  const response = await hostRequest('net/fetch', { url: `https://api.open-meteo.com/v1/forecast?${query}`, method: 'GET', headers: { accept: 'application/json' } });
  if (response.status !== 200) throw new Error(`Open-Meteo answered ${response.status}`);
  const data = JSON.parse(response.body);
  const lines = [];
  if (data.current) lines.push(`Now: ${data.current.temperature_2m} °C, ${CODES[data.current.weather_code] ?? 'unknown'}, wind ${data.current.wind_speed_10m} km/h.`);
  const daily = data.daily ?? { time: [] };
  daily.time.forEach((day, index) => {
    lines.push(`${day}: ${daily.temperature_2m_min[index]}–${daily.temperature_2m_max[index]} °C, ${CODES[daily.weather_code[index]] ?? 'unknown'}, rain ${daily.precipitation_probability_max[index]}%.`);
  });
  return lines.join('\n');
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  if (message.method === undefined) {
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) entry?.reject(new Error(message.error.message));
    else entry?.resolve(message.result);
    return;
  }
  if (message.method !== 'tools/call') return send({ id: message.id, error: { code: -32601, message: `unknown method ${message.method}` } });
  try {
    if (message.params.name !== 'forecast') throw new Error(`no tool ${message.params.name}`);
    send({ id: message.id, result: { content: await forecast(message.params.arguments) } });
  } catch (error) {
    send({ id: message.id, error: { code: -32000, message: error.message } });
  }
});
