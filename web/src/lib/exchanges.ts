import type { Exchange } from "../api/types";

const EXCHANGE_NAMES: Record<Exchange, string> = {
  luno: "Luno",
  valr: "VALR",
  ovex: "OVEX",
  binance: "Binance",
  kucoin: "KuCoin",
  bybit: "Bybit",
};

/** Exchanges whose API keys come with a passphrase. */
export const NEEDS_PASSPHRASE: ReadonlySet<Exchange> = new Set(["kucoin"]);

/** The display name of an exchange id; unknown ids are shown as they are. */
export function exchangeName(exchange: string): string {
  return EXCHANGE_NAMES[exchange as Exchange] ?? exchange;
}
