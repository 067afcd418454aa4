// Billing: the tenant's usage this period and its invoice preview (a platform key picks the
// tenant).

import { useState } from "react";
import { get, micros, usd } from "../api";
import { useMe } from "../session";
import { Head, Card, Problem, fmt, useLoad } from "../ui";

interface Line {
  kind?: string;
  description?: string;
  model?: string;
  gpuMicros?: string;
  unitUsdMicros?: string;
  amountUsdMicros?: string;
}

interface Invoice {
  tenant?: string;
  periodStartUnixMicros?: string;
  periodEndUnixMicros?: string;
  lines?: Line[];
  subtotalUsdMicros?: string;
  taxUsdMicros?: string;
  totalUsdMicros?: string;
}

export function Billing() {
  const me = useMe();
  const [chosen, setChosen] = useState("");
  const tenant = me.tenant ?? chosen;
  const preview = useLoad(
    async () => (tenant ? ((await get<{ invoice?: Invoice }>("/v1/invoices/preview", { tenant })).invoice ?? {}) : null),
    [tenant],
    30_000,
  );
  const invoices = useLoad(async () => (tenant ? get<{ invoices?: Invoice[] }>("/v1/invoices", { tenant }) : null), [tenant], 60_000);
  const inv = preview.data;
  return (
    <>
      <h1>Billing</h1>
      {me.tenant ? null : (
        <label className="site-pick">
          Tenant <input value={chosen} onChange={(e) => setChosen(e.target.value)} placeholder="tenant id" />
        </label>
      )}
      <Problem error={preview.error} />
      <Card title="This period so far (preview)">
        {inv ? (
          <>
            <p>
              {fmt.time(micros(inv.periodStartUnixMicros))} – {fmt.time(micros(inv.periodEndUnixMicros))}
            </p>
            <div className="table-wrap">
              <table>
                <Head columns={["Usage", "Quantity", "Unit price", "Amount"]} />
                <tbody>
                  {(inv.lines ?? []).map((l, i) => (
                    <tr key={i}>
                      <td>{l.description}</td>
                      <td className="num">{l.gpuMicros ? `${fmt.n(Number(l.gpuMicros) / 3.6e9)} GPU-h` : ""}</td>
                      <td className="num">{fmt.usd(usd(l.unitUsdMicros))}</td>
                      <td className="num">{fmt.usd(usd(l.amountUsdMicros))}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row" colSpan={3}>
                      Tax
                    </th>
                    <td className="num">{fmt.usd(usd(inv.taxUsdMicros))}</td>
                  </tr>
                  <tr>
                    <th scope="row" colSpan={3}>
                      Total
                    </th>
                    <td className="num">
                      <strong>{fmt.usd(usd(inv.totalUsdMicros))}</strong>
                    </td>
                  </tr>
                </tfoot>
              </table>
            </div>
          </>
        ) : (
          <p className="unavailable">{tenant ? "…" : "Name a tenant."}</p>
        )}
      </Card>
      <Card title="Invoices issued">
        <Problem error={invoices.error} />
        <ul>
          {(invoices.data?.invoices ?? []).map((i, n) => (
            <li key={n}>
              {fmt.time(micros(i.periodStartUnixMicros))} – {fmt.time(micros(i.periodEndUnixMicros))}: {fmt.usd(usd(i.totalUsdMicros))}
            </li>
          ))}
          {invoices.data?.invoices?.length === 0 ? <li>none yet</li> : null}
        </ul>
      </Card>
    </>
  );
}
