"""Reads miners with pyasic, as an operator's tooling would: one JSON object per miner
with what pyasic made of it (its class, model, hashrate, power, temperatures, fans and
hashboards), or the error it raised. Usage: read.py IP [IP ...]"""

import asyncio
import json
import sys

import pyasic


def rate(r):
    return None if r is None else float(r)


async def read(ip):
    miner = await pyasic.get_miner(ip)
    out = {"ip": ip, "class": type(miner).__name__ if miner else None}
    if miner is None:
        return out
    try:
        d = await miner.get_data()
    except Exception as e:  # what pyasic raised is the finding
        out["error"] = repr(e.__cause__ or e)
        return out
    out.update(
        make=d.make,
        model=d.model,
        firmware=d.fw_ver,
        hashrate_ths=rate(d.hashrate),
        wattage=d.wattage,
        temperature_avg=d.temperature_avg,
        fans=[f.speed for f in d.fans],
        boards=[
            {"slot": b.slot, "hashrate_ths": rate(b.hashrate), "temp": b.temp, "chip_temp": b.chip_temp, "chips": b.chips}
            for b in d.hashboards
        ],
        is_mining=d.is_mining,
        uptime=d.uptime,
    )
    return out


async def main():
    for ip in sys.argv[1:]:
        print(json.dumps(await read(ip)), flush=True)


asyncio.run(main())
