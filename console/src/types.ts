// The /v1 messages the console reads, in the proto3 JSON mapping: camelCase names, 64-bit
// integers as strings, enums by name, and fields at their default left out (so optional here).

export interface SiteStatus {
  site: string;
  capKw?: number;
  planId?: string;
  plannedUnixMicros?: string;
  plannedKw?: number;
  priceUsdMwh?: number;
  mining?: number;
  ai?: number;
  curtailed?: number;
  marginUsdPerHour?: number;
}

export interface Telemetry {
  observedUnixMicros?: string;
  hashrateThs?: number;
  powerW?: number;
  maxTempC?: number;
  fansRpm?: number[];
  boardsAlive?: number;
  boardsTotal?: number;
  firmware?: string;
  utilizationPct?: number;
}

export interface Resource {
  id: string;
  spec?: {
    site?: string;
    rack?: string;
    asic?: { model?: string; nominalHashrateHs?: string; nominalPowerW?: string };
    gpu?: { model?: string; host?: string; memoryMib?: string; powerLimitW?: string };
  };
  mode?: string;
  health?: string;
  assignedWorkload?: string;
  version?: string;
  telemetry?: Telemetry;
  address?: string;
}

export interface ResourcePage {
  resources?: Resource[];
  nextPageToken?: string;
  total?: number;
  powerW?: number;
}

export interface Quote {
  site?: string;
  intervalStartUnixMicros?: string;
  dayAheadUsdMwh?: number;
  realTimeUsdMwh?: number;
  source?: string;
}

export interface Group {
  model: string;
  kind?: string;
  devices?: number;
  running?: number;
  curtailed?: number;
  held?: number;
  committed?: number;
  marginUsdPerMwh?: number;
  why?: string;
}

export interface Plan {
  planId: string;
  site: string;
  plannedUnixMicros?: string;
  priceUsdMwh?: number;
  priceBasis?: string;
  capKw?: number;
  plannedKw?: number;
  marginUsdPerHour?: number;
  groups?: Group[];
  summary?: string;
}

export interface SiteMargin {
  site: string;
  devices?: number;
  energyKwh?: number;
  powerCostUsdMicros?: string;
  btc?: number;
  miningUsdMicros?: string;
  aiGpuHours?: number;
  aiUsdMicros?: string;
  marginUsdMicros?: string;
}

export interface Curtailment {
  curtailmentId: string;
  site?: string;
  kw?: number;
  reason?: string;
  untilUnixMicros?: string;
  [field: string]: unknown;
}

export interface WorkloadSpec {
  tenant?: string;
  kind?: string;
  gpuModel?: string;
  gpuCount?: number;
  memoryMib?: string;
  maxLatencyMs?: string;
  priority?: number;
  image?: string;
  command?: string[];
  maxRunTimeSeconds?: string;
  preemptible?: boolean;
  site?: string;
  [field: string]: unknown;
}

export interface Pending {
  reason?: string;
  message?: string;
  position?: number;
}

export interface Workload {
  workloadId: string;
  spec?: WorkloadSpec;
  status?: string;
  resources?: string[];
  version?: string;
  attempts?: number;
  reason?: string;
  endpoint?: string;
  progressMs?: string;
  submittedUnixMicros?: string;
  updatedUnixMicros?: string;
  pending?: Pending;
}

export interface HistoryEntry {
  version?: string;
  eventType: string;
  timeUnixMicros?: string;
  actor?: string;
  detail?: string;
}

/** What a spec would cost at most (`POST /v1/estimate`), in micro-dollars and GPU-microseconds. */
export interface Estimate {
  tenant?: string;
  gpuModel?: string;
  gpuMicros?: string;
  subtotalUsdMicros?: string;
  taxUsdMicros?: string;
  totalUsdMicros?: string;
  periodGpuMicros?: string;
}
