// The event-loop stall monitor: a command that blocks the loop is named in a warning; short
// work and idle time are not reported. The stall is a real busy-wait on this thread.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogLevel } from '../../server/imap/contracts.js';
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
    // A loaded machine may add stalls of its own (outside any command): look for ours.
    const ours = lines.filter((l) => / during LIST$/.test(l.message));
    assert.equal(ours.length, 1, JSON.stringify(lines));
    assert.equal(ours[0].level, 'warn');
    const m = /^stall: (\d+) ms during LIST$/.exec(ours[0].message);
    assert.ok(m, ours[0].message);
    assert.ok(Number(m[1]) >= 150 && Number(m[1]) < 5000, ours[0].message);
    assert.equal(monitor.count, lines.length);
    assert.ok(stalls.some((s) => s.commands.join() === 'LIST'));
  } finally {
    monitor.stop();
  }
});

test('short work, commands waiting on I/O and idle time are not reported', async () => {
  const { monitor, lines } = monitored();
  // Node's own measure of the loop's delay, to tell a stall of the loaded machine from a false report.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  monitor.start();
  try {
    const end = monitor.begin('FETCH');
    for (let i = 0; i < 5; i++) {
      busy(20);
      await sleep(10);
    }
    end();
    await sleep(200);
    delay.disable();
    if (delay.max / 1e6 < 100) {
      assert.deepEqual(lines, []);
      assert.equal(monitor.count, 0);
    } else {
      // The machine itself held the loop: whatever was reported must be at most that long.
      for (const l of lines) assert.ok(Number(/(\d+) ms/.exec(l.message)![1]) <= delay.max / 1e6 + 20, l.message);
    }
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
    // The first two are ours; a loaded machine may add stalls outside any command.
    assert.ok(messages.includes('stall: N ms during IDLE, SEARCH'), JSON.stringify(messages));
    assert.ok(messages.includes('stall: N ms outside any command'), JSON.stringify(messages));
    assert.ok(messages.every((m) => m === 'stall: N ms during IDLE, SEARCH' || m === 'stall: N ms outside any command' || m === 'stall: N ms during IDLE'), JSON.stringify(messages));
  } finally {
    monitor.stop();
  }
});
