// The event-loop stall monitor: a command that blocks the loop is named in a warning; short
// work and idle time are not reported. The stall is a real busy-wait on this thread.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogLevel } from '../../server/imap/host.js';
import { StallMonitor, type Stall } from '../../server/imap/stall.js';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* keep the thread */
  }
}

function monitored(): { monitor: StallMonitor; lines: { level: LogLevel; message: string }[]; stalls: Stall[] } {
  const lines: { level: LogLevel; message: string }[] = [];
  const stalls: Stall[] = [];
  const monitor = new StallMonitor({ logger: { log: (level, message) => lines.push({ level, message }) }, onStall: (s) => stalls.push(s) });
  return { monitor, lines, stalls };
}

test('a command that blocks the loop for 250 ms is warned about by name', async () => {
  const { monitor, lines, stalls } = monitored();
  monitor.start();
  try {
    await sleep(60); // a tick or so of normal running first
    const end = monitor.begin('LIST');
    busy(250);
    end(); // the command ends in the same turn of the loop, before the timer can run
    await sleep(120);
    const stallLines = lines.filter((l) => l.message.startsWith('stall:'));
    assert.equal(stallLines.length, 1, JSON.stringify(lines));
    assert.equal(stallLines[0].level, 'warn');
    const m = /^stall: (\d+) ms during LIST$/.exec(stallLines[0].message);
    assert.ok(m, stallLines[0].message);
    assert.ok(Number(m[1]) >= 150 && Number(m[1]) < 2000, stallLines[0].message);
    assert.equal(monitor.count, 1);
    assert.deepEqual(monitor.last?.commands, ['LIST']);
    assert.equal(stalls.length, 1);
  } finally {
    monitor.stop();
  }
});

test('short work, commands waiting on I/O and idle time are not reported', async () => {
  const { monitor, lines } = monitored();
  monitor.start();
  try {
    const end = monitor.begin('FETCH');
    for (let i = 0; i < 5; i++) {
      busy(20);
      await sleep(10);
    }
    end();
    await sleep(200);
    assert.deepEqual(lines, []);
    assert.equal(monitor.count, 0);
  } finally {
    monitor.stop();
  }
});

test('a stall with two commands running names both; one outside any command says so', async () => {
  const { monitor, lines } = monitored();
  monitor.start();
  try {
    await sleep(60);
    const a = monitor.begin('SEARCH');
    const b = monitor.begin('IDLE');
    busy(200);
    a();
    await sleep(120);
    b();
    await sleep(60);
    busy(200);
    await sleep(120);
    const messages = lines.map((l) => l.message.replace(/\d+ ms/, 'N ms'));
    assert.deepEqual(messages, ['stall: N ms during IDLE, SEARCH', 'stall: N ms outside any command']);
  } finally {
    monitor.stop();
  }
});
