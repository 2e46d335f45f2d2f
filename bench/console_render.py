"""How fast the agent console opens a long thread while many conversations are open.

Starts a real hub on 127.0.0.1 (temporary SQLite file), gives an agent --chats open chats,
one of them --history messages long, and opens that thread in headless Chromium (1280x720):
prints the time from the click to the newest message on screen, the long tasks (> 50 ms,
the browser's own PerformanceObserver) during it, and the same for loading one older page.

    .venv/bin/python bench/console_render.py [--chats 50] [--history 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import async_playwright

from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.test_console_chat import sign_in
from tests.browser.workload import busy_agent
from tests.functional.conftest import serve, settings_for

# Runs in the page: click a work item, wait until the given text is the last message shown,
# and report the time taken and the long tasks seen meanwhile.
MEASURE_OPEN = """async ([target, newest]) => {
  const tasks = [];
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries()));
  observer.observe({ type: "longtask", buffered: false });
  const button = [...document.querySelectorAll("#work-list .work-item")]
    .find((b) => b.textContent.includes(target));
  const started = performance.now();
  button.click();
  await new Promise((resolve) => {
    const check = () => {
      const last = document.querySelector("#messages .message:last-child .message-body");
      if (last && last.textContent === newest) requestAnimationFrame(() => resolve());
      else requestAnimationFrame(check);
    };
    check();
  });
  const elapsed = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const longest = Math.max(0, ...tasks.map((t) => t.duration));
  return { ms: elapsed, longTasks: tasks.length, longestTask: longest };
}"""

MEASURE_OLDER = """async () => {
  const list = document.getElementById("messages");
  if (!list.querySelector(".thread-older")) return { ms: NaN };  // the whole thread is drawn
  const before = list.querySelectorAll(".message").length;
  const started = performance.now();
  list.scrollTop = 0;
  await new Promise((resolve) => {
    const check = () => (list.querySelectorAll(".message").length > before
      ? requestAnimationFrame(() => resolve()) : requestAnimationFrame(check));
    check();
  });
  return { ms: performance.now() - started };
}"""


async def main(chats: int, history: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(
            Path(tmp), HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT=str(max(chats, 1))
        )
        async with serve(settings) as running, async_playwright() as pw:
            await running.add_user("alice@example.com", "Alice Agent")
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 720})
            await sign_in(page, running.base, "alice@example.com")
            work = await busy_agent(
                running,
                settings.database.url,
                "alice@example.com",
                chats=chats,
                history=history - 1,
            )
            await page.wait_for_function(
                f"document.querySelectorAll('#work-list .work-item').length === {chats}"
            )
            other = "Customer 01" if chats > 1 else work.long_customer
            opened: list[dict[str, Any]] = []
            older: list[float] = []
            for _ in range(runs):
                if chats > 1:
                    await page.evaluate(MEASURE_OPEN, [other, f"hello from {other}"])
                opened.append(
                    await page.evaluate(
                        MEASURE_OPEN, [work.long_customer, f"hello from {work.long_customer}"]
                    )
                )
                older.append((await page.evaluate(MEASURE_OLDER))["ms"])
            await work.close()
            await browser.close()
    times = [o["ms"] for o in opened]
    print(f"chats={chats} history={history} runs={runs} chromium={os.path.basename(CHROMIUM)}")
    print(
        f"open the long thread ms: median={statistics.median(times):.1f} max={max(times):.1f}; "
        f"long tasks per open: {[o['longTasks'] for o in opened]}, "
        f"longest {max(o['longestTask'] for o in opened):.0f} ms"
    )
    drawn = [ms for ms in older if ms == ms]  # NaN: no older page to draw
    if drawn:
        print(f"draw one older page ms: median={statistics.median(drawn):.1f} max={max(drawn):.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--history", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.chats, args.history, args.runs))
