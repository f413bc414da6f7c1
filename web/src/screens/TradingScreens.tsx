import { Page, Panel } from "../components/Page";
import { ComingSoon } from "../components/StateViews";

/*
 * Screens whose API (bots, trades, wallet, risk, WebSocket) is being built in the
 * backend now. Each says plainly what it will show; none shows invented numbers.
 */

export function Bots() {
  return (
    <Page title="Bots" intro="Create, start, pause and inspect trading bots.">
      <Panel title="Your bots">
        <ComingSoon title="No bots yet">The bot list with status, market, strategy and PnL, and each bot's detail: price chart with its trades and indicators, and decision traces explaining every order.</ComingSoon>
      </Panel>
    </Page>
  );
}

export function LiveTrades() {
  return (
    <Page title="Live trades" intro="Paper and live trading side by side.">
      <div className="grid">
        <Panel title="Paper">
          <ComingSoon title="No paper trades">Fills from paper bots stream here in real time.</ComingSoon>
        </Panel>
        <Panel title="Live">
          <ComingSoon title="No live trades">Fills from live bots on your connected exchanges stream here in real time.</ComingSoon>
        </Panel>
      </div>
    </Page>
  );
}

export function Wallet() {
  return (
    <Page title="Wallet" intro="Balances per exchange and per bot, from the ledger.">
      <Panel title="Balances">
        <ComingSoon title="No balances yet">Balances in rand per exchange and bot, capital allocations, deposits and withdrawals.</ComingSoon>
      </Panel>
    </Page>
  );
}

export function Risk() {
  return (
    <Page title="Risk" intro="How much you could lose, and the brakes that stop it.">
      <div className="grid">
        <Panel title="VaR and CVaR">
          <ComingSoon title="No positions to measure">Historical and parametric Value at Risk with expected shortfall.</ComingSoon>
        </Panel>
        <Panel title="Monte Carlo">
          <ComingSoon title="No simulations yet">A histogram of simulated outcomes and a fan chart of equity paths.</ComingSoon>
        </Panel>
        <Panel title="Stress tests">
          <ComingSoon title="No scenarios run">Replays of crash scenarios against your current book.</ComingSoon>
        </Panel>
        <Panel title="Circuit breakers">
          <ComingSoon title="No breakers configured">Daily loss and drawdown breakers, and the emergency stop.</ComingSoon>
        </Panel>
      </div>
    </Page>
  );
}
