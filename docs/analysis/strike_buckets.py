#!/usr/bin/env python3
"""Is "curtail when the last real-time price was above breakeven" already the best
decision on what is known? With no dwell and no switching cost, the best decision for an
interval is "mine iff the expected price is below breakeven", so a better rule needs some
known feature under which the mean next price falls on the other side of breakeven from
the last price. This splits the shipped months by such features and prints, per bucket,
the mean next real-time price against the mean breakeven, and what curtailing every
interval of the bucket would gain ($ per device over the months; the strike rule curtails
exactly the "last > be" buckets).

Usage: python3 docs/analysis/strike_buckets.py   (from the repository root; stdlib only)
"""
import csv
import statistics as st

MODELS = [("Antminer S21", 200, 3500), ("Antminer S19j Pro", 104, 3068), ("Whatsminer M30S++", 112, 3472)]


def load():
    rows = list(csv.DictReader(open("data/ercot/hb_south_15min_2024-06_2024-12.csv")))
    btc = {r["date"]: r for r in csv.DictReader(open("data/bitcoin/btc_daily_2020-04_2024-12.csv"))}
    days = sorted(btc)

    def hashprice(d):  # $/PH/day, subsidy only (the backtest's default: no fees)
        r = btc[d]
        subsidy = 50.0 / 2 ** (int(r["block_height"]) // 210000)
        return 1e15 * 86400 / (float(r["difficulty"]) * 2**32) * subsidy * float(r["btc_usd_close"])

    own = [hashprice(r["interval_start"][:10]) for r in rows]
    known = [hashprice(days[days.index(r["interval_start"][:10]) - 1]) for r in rows]
    da = [float(r["hb_south_dam_usd_mwh"]) for r in rows]
    rt = [float(r["hb_south_rtm_usd_mwh"]) for r in rows]
    return own, known, da, rt


def main():
    own, known, da, rt = load()
    n = len(rt)
    for name, th, w in MODELS:
        be = [th / 1000 * known[t] / 24 / (w / 1e6) for t in range(n)]

        def margin(t):
            return 0.25 * (th / 1000 * own[t] / 24 - w / 1e6 * rt[t])

        buckets = {
            "last > be, one before <= be (spike just began)": lambda t: rt[t - 1] > be[t] >= rt[t - 2],
            "last > be, one before > be": lambda t: rt[t - 1] > be[t] and rt[t - 2] > be[t],
            "last > be, day-ahead <= be": lambda t: rt[t - 1] > be[t] >= da[t],
            "last in (be, 2 be]": lambda t: be[t] < rt[t - 1] <= 2 * be[t],
            "last <= be, day-ahead > be": lambda t: rt[t - 1] <= be[t] < da[t],
            "last in (0.8 be, be]": lambda t: 0.8 * be[t] < rt[t - 1] <= be[t],
            "last in (0.6 be, be], rising 20 %": lambda t: 0.6 * be[t] < rt[t - 1] <= be[t] and rt[t - 1] > 1.2 * rt[t - 2],
        }
        print(name)
        for label, cond in buckets.items():
            ts = [t for t in range(2, n) if cond(t)]
            gain = -sum(margin(t) for t in ts)
            print(
                f"  {label:<48} n={len(ts):>4}  next rt {st.mean(rt[t] for t in ts):>7.1f}"
                f"  be {st.mean(be[t] for t in ts):>6.1f}  curtail gains ${gain:>7.1f}"
            )


if __name__ == "__main__":
    main()
