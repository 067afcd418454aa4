"""Puts a miner to sleep with pyasic and wakes it, printing what pyasic reads after each:
`asleep <is_mining> <hashrate>` then `awake <is_mining>`. Usage: sleep.py IP"""

import asyncio
import sys

import pyasic


async def main(ip):
    miner = await pyasic.get_miner(ip)
    assert await miner.stop_mining()
    for _ in range(100):
        d = await miner.get_data()
        if not d.is_mining and float(d.hashrate or 0) == 0.0:
            break
        await asyncio.sleep(0.2)
    print("asleep", d.is_mining, float(d.hashrate or 0), flush=True)
    assert await miner.resume_mining()
    d = await miner.get_data()
    print("awake", d.is_mining, flush=True)


asyncio.run(main(sys.argv[1]))
