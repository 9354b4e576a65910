//! Startup: build the application from settings; used by `main` and by tests alike.

use std::sync::Arc;

use anyhow::Context;

use crate::channels::Senders;
use crate::channels::dispatcher::{Dispatcher, DispatcherConfig};
use crate::config::Settings;
use crate::conversation::{Engine, Understand};
use crate::dialog::DialogState;
use crate::services::{Clock, Services, SystemClock};
use crate::store::Store;

/// A built, not yet running freshbot.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    services: Services,
    engine: Engine,
    senders: Senders,
    dispatcher: Option<Dispatcher>,
    /// Set when a bot token is configured.
    telegram: Option<Arc<crate::channels::telegram::Telegram>>,
    /// Courier dispatch settings (the wave sweeper runs when `auto`).
    dispatch: crate::services::DispatchSettings,
    web: crate::channels::web::WebHub,
}

impl Application {
    /// Opens the database (migrating it), optionally loads the demo business, binds the port.
    pub async fn build(settings: Settings, demo: bool) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, demo, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        settings: Settings,
        demo: bool,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let nlu = Arc::new(crate::nlu::shipped_nlu().context("training the NLU")?);
        Self::build_with(settings, demo, clock, nlu).await
    }

    /// Builds with a given clock and NLU (tests share one trained model).
    pub async fn build_with(
        settings: Settings,
        demo: bool,
        clock: Arc<dyn Clock>,
        nlu: Arc<dyn Understand>,
    ) -> anyhow::Result<Self> {
        Self::build_with_senders(settings, demo, clock, nlu, Senders::new()).await
    }

    /// As [`Application::build_with`], with senders that replace those of the configured
    /// channels (tests record what would have gone out on Telegram or WeChat).
    pub async fn build_with_senders(
        settings: Settings,
        demo: bool,
        clock: Arc<dyn Clock>,
        nlu: Arc<dyn Understand>,
        overrides: Senders,
    ) -> anyhow::Result<Self> {
        let url = settings.database_url()?;
        let store = Store::connect(&url)
            .await
            .with_context(|| format!("opening the database {}", redact(&url)))?;
        if demo {
            let report = crate::demo::load(&store, &settings)
                .await
                .context("loading demo data")?;
            tracing::info!(?report, "demo data loaded");
        }
        let listener = tokio::net::TcpListener::bind(&settings.bind)
            .await
            .with_context(|| format!("binding {}", settings.bind))?;
        let services = Services::new(store, settings.business.clone(), clock)
            .with_handoff_settings(settings.handoff.clone());
        let faq = crate::conversation::faq::parse_faq(crate::conversation::faq::FAQ_YAML)
            .map_err(anyhow::Error::msg)?;
        let mut public_url = settings.public_url();
        if let Ok(addr) = listener.local_addr() {
            // Port 0 (tests) resolves to the real port.
            public_url = public_url.replace(&settings.bind, &addr.to_string());
        }
        let engine = Engine::new(services.clone(), nlu, faq, &public_url);
        // Channel adapters register their senders here as they are configured.
        let mut senders = Senders::new();
        let telegram_bot =
            crate::channels::telegram::bot(&settings.telegram).context("setting up Telegram")?;
        if let Some(bot) = &telegram_bot {
            senders.insert(Arc::new(crate::channels::telegram::TelegramSender::new(
                bot.clone(),
            )));
        }
        for s in
            crate::channels::wechat::senders(&settings, &services).context("setting up WeChat")?
        {
            senders.insert(s);
        }
        let web = crate::channels::web::WebHub::new();
        senders.insert(Arc::new(crate::channels::web::WebSender::new(
            services.clone(),
            web.clone(),
        )));
        senders.extend(overrides);
        let mut router = crate::http::router(crate::http::AppState {
            services: services.clone(),
            engine: engine.clone(),
            admin_token: settings.admin_token.clone(),
            senders: senders.clone(),
            web: web.clone(),
        });
        let dispatcher = settings.dispatch_outbox.then(|| {
            Dispatcher::new(
                services.clone(),
                senders.clone(),
                &public_url,
                DispatcherConfig::default(),
            )
        });
        let telegram = match telegram_bot {
            Some(bot) => {
                let replies = match senders.get(crate::domain::Channel::Telegram) {
                    Some(s) => s.clone(),
                    None => Arc::new(crate::channels::telegram::TelegramSender::new(bot.clone())),
                };
                let tg = Arc::new(
                    crate::channels::telegram::Telegram::new(
                        bot,
                        &settings.telegram,
                        engine.clone(),
                        replies,
                    )
                    .context("setting up Telegram")?
                    .with_dispatch_settings(settings.dispatch.clone()),
                );
                if tg.is_webhook() {
                    router = router.merge(tg.webhook_router());
                }
                Some(tg)
            }
            None => None,
        };
        if let Some(wechat) = crate::channels::wechat::routes(&settings, &engine, &senders)
            .context("setting up WeChat")?
        {
            router = router.merge(wechat);
        }
        // Last, so the webhooks are counted and carry request ids too.
        let router = crate::http::observe::observed(router);
        Ok(Self {
            listener,
            router,
            services,
            engine,
            senders,
            dispatcher,
            telegram,
            web,
            dispatch: settings.dispatch.clone(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The outbound side of every configured channel.
    pub fn senders(&self) -> &Senders {
        &self.senders
    }

    /// Serves until SIGTERM or Ctrl-C, finishing requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "listening");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let mut background = tokio::task::JoinSet::new();
        if let Some(d) = self.dispatcher {
            background.spawn(d.run(stopped(stop_rx.clone())));
        }
        // Telegram trouble (no network, a refused token) is logged by the channel and never
        // stops the web channel.
        if let Some(tg) = self.telegram {
            background.spawn(tg.run(stop_rx.clone()));
        }
        // Each scheduled job runs on one instance at a time (a lease row per job), however many
        // instances share the database.
        let instance: Arc<str> = Arc::from(format!(
            "{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let lead = |job: &'static str, every: std::time::Duration| JobLead {
            services: self.services.clone(),
            instance: instance.clone(),
            job,
            ttl: chrono::Duration::from_std(every * 3)
                .unwrap_or(chrono::Duration::minutes(1))
                .max(chrono::Duration::seconds(30)),
        };
        let sweeper = tokio::spawn(handoff_sweeper(
            self.services.clone(),
            lead("handoff_sla", SWEEP_EVERY),
        ));
        let offers = tokio::spawn(substitution_sweeper(
            self.services.clone(),
            lead("substitution_offers", SWEEP_EVERY),
        ));
        let waves = self.dispatch.auto.then(|| {
            let every = std::time::Duration::from_secs(self.dispatch.sweep_secs.max(1));
            tokio::spawn(wave_sweeper(
                self.services.clone(),
                self.dispatch.clone(),
                lead("delivery_waves", every),
            ))
        });
        let web = self.web.clone();
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                // Upgraded WebSockets outlive graceful shutdown unless told to close.
                web.shut_down();
            })
            .await;
        let _ = stop_tx.send(true);
        sweeper.abort();
        offers.abort();
        if let Some(w) = waves {
            w.abort();
        }
        while background.join_next().await.is_some() {}
        served?;
        Ok(())
    }
}

/// How often the handoff and substitution sweeps run.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// The lease that makes a scheduled job run on one instance (see [`Services::lead_job`]).
struct JobLead {
    services: Services,
    instance: Arc<str>,
    job: &'static str,
    ttl: chrono::Duration,
}

impl JobLead {
    /// Whether this instance runs the job this tick. A database error skips the tick: a job
    /// run twice (waves) is worse than a job run 15 s late.
    async fn holds(&self) -> bool {
        match self
            .services
            .lead_job(self.job, &self.instance, self.ttl)
            .await
        {
            Ok(led) => led,
            Err(e) => {
                tracing::warn!(job = self.job, error = %e, "could not take the job's lease");
                false
            }
        }
    }
}

/// Every 15 s: one apology to each customer waiting for an agent past the SLA (sent by the
/// outbox dispatcher, so a failing channel has it retried).
async fn handoff_sweeper(services: Services, lead: JobLead) {
    let every = SWEEP_EVERY;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        if !lead.holds().await {
            continue;
        }
        match services.sweep_handoff_sla::<DialogState>().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(apologies = n, "handoff SLA passed"),
            Err(e) => tracing::warn!(error = %e, "handoff SLA sweep failed"),
        }
    }
}

/// Every 15 s: substitution offers nobody answered count as "no", so their orders get packed.
async fn substitution_sweeper(services: Services, lead: JobLead) {
    let every = SWEEP_EVERY;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        if !lead.holds().await {
            continue;
        }
        if let Err(e) = services.expire_substitution_offers().await {
            tracing::warn!(error = %e, "substitution offer sweep failed");
        }
    }
}

/// Every `sweep_secs`: dispatches each slot whose cut-off has passed and that has packed
/// orders (orders packed after their wave left go out with the next sweep, on couriers still
/// free). One instance runs it (its job lease); should two ever plan at once, an order can be
/// on only one route (unique index), so the second plan fails and is logged.
async fn wave_sweeper(
    services: Services,
    settings: crate::services::DispatchSettings,
    lead: JobLead,
) {
    let every = std::time::Duration::from_secs(settings.sweep_secs.max(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    // The same unserved orders are reported once, not every sweep.
    let mut reported: Vec<String> = Vec::new();
    loop {
        tick.tick().await;
        if !lead.holds().await {
            continue;
        }
        let due = match services.waves_due().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "looking for due delivery waves failed");
                continue;
            }
        };
        for slot in due {
            match services.dispatch_slot(&settings, slot).await {
                Ok(r) => {
                    for u in &r.unserved {
                        if !reported.contains(&u.number) {
                            tracing::warn!(order = %u.number, reason = u.reason, %slot, "order not dispatched");
                            reported.push(u.number.clone());
                        }
                    }
                    if reported.len() > 10_000 {
                        reported.clear();
                    }
                }
                Err(e) => tracing::warn!(error = %e, %slot, "dispatching a wave failed"),
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}
