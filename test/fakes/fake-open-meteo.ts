import { createServer, type Server } from 'node:http';
import { fetchTransport, type Transport } from '../../main/skills/network-broker.js';

/**
 * A fake of Open-Meteo's forecast API (GET /v1/forecast) on loopback, answering in its real response shape, and a
 * broker transport that sends requests meant for https://api.open-meteo.com to it. The broker's checks run on the
 * real URL; only the last step (where the bytes go) is replaced.
 */
export interface FakeOpenMeteo {
  readonly transport: Transport;
  readonly requests: { readonly url: string; readonly headers: Readonly<Record<string, string | string[] | undefined>> }[];
  close(): Promise<void>;
}

export async function startFakeOpenMeteo(): Promise<FakeOpenMeteo> {
  const requests: FakeOpenMeteo['requests'] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', headers: request.headers });
    const url = new URL(request.url ?? '/', 'http://fake');
    if (url.pathname !== '/v1/forecast' || !url.searchParams.has('latitude') || !url.searchParams.has('longitude')) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: true, reason: 'Parameter latitude and longitude required' }));
      return;
    }
    const days = Number(url.searchParams.get('forecast_days') ?? 7);
    const time = Array.from({ length: days }, (_, index) => `2026-12-0${index + 2}`);
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(
      JSON.stringify({
        latitude: Number(url.searchParams.get('latitude')),
        longitude: Number(url.searchParams.get('longitude')),
        generationtime_ms: 0.05,
        utc_offset_seconds: 3600,
        timezone: 'Europe/Berlin',
        timezone_abbreviation: 'GMT+1',
        elevation: 38,
        current_units: { time: 'iso8601', interval: 'seconds', temperature_2m: '°C', weather_code: 'wmo code', wind_speed_10m: 'km/h' },
        current: { time: '2026-12-02T15:00', interval: 900, temperature_2m: 4.2, weather_code: 61, wind_speed_10m: 13.7 },
        daily_units: { time: 'iso8601', temperature_2m_max: '°C', temperature_2m_min: '°C', precipitation_probability_max: '%', weather_code: 'wmo code' },
        daily: {
          time,
          temperature_2m_max: time.map((_, index) => 5 + index),
          temperature_2m_min: time.map((_, index) => -1 + index),
          precipitation_probability_max: time.map((_, index) => 80 - index * 10),
          weather_code: time.map(() => 3),
        },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    requests,
    transport: (request, signal) => {
      const url = new URL(request.url);
      if (url.hostname !== 'api.open-meteo.com') throw new Error(`the fake transport only reaches api.open-meteo.com, not ${url.hostname}`);
      return fetchTransport({ ...request, url: `http://127.0.0.1:${port}${url.pathname}${url.search}` }, signal);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
