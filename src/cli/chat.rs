//! `freshbot chat`: the customer conversation in the terminal. Buttons are shown as numbered
//! choices; typing the number taps the button, anything else is a message. At a terminal the
//! line is edited with rustyline (cursor keys, history); piped input is read as plain lines.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::conversation::{Content, Engine, Inbound};
use crate::domain::Reply;
use crate::domain::{Channel, Lang, LatLon};
use crate::services::{Services, SystemClock};

/// Options of `freshbot chat`.
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// Who you are: the same id resumes the same customer, orders and conversation.
    #[arg(long, default_value = "local")]
    pub user: String,
    /// Reply language (otherwise it follows what you type).
    #[arg(long)]
    pub lang: Option<Lang>,
}

pub fn run(args: ChatArgs) -> anyhow::Result<ExitCode> {
    let settings = crate::config::Settings::load().context("loading settings")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let store = crate::store::Store::connect(&settings.database_url()?)
            .await
            .context("opening the database")?;
        let services = Services::new(
            store.clone(),
            settings.business.clone(),
            Arc::new(SystemClock),
        );
        if services.catalog().await?.is_empty() {
            eprintln!("(the catalog is empty: loading the demo business)");
            crate::demo::load(&store, &settings).await?;
        }
        let nlu = Arc::new(crate::nlu::shipped_nlu().context("training the NLU")?);
        let faq = crate::conversation::faq::parse_faq(crate::conversation::faq::FAQ_YAML)
            .map_err(anyhow::Error::msg)?;
        let engine = Engine::new(services, nlu, faq, &settings.public_url());
        converse(&engine, &args).await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn converse(engine: &Engine, args: &ChatArgs) -> anyhow::Result<()> {
    let mut lines = LineSource::open();
    let mut out = std::io::stdout();
    writeln!(
        out,
        "{}",
        args.lang.unwrap_or_default().pick(
            "鲜菜小助手(输入 /quit 退出,/loc 纬度,经度 分享位置,数字选择按钮)",
            "freshbot (type /quit to leave, /loc lat,lon to share a location, a number to tap a button)"
        )
    )?;
    let mut buttons: Vec<String> = Vec::new();
    let mut seq = 0u64;
    loop {
        let Some(line) = lines.next_line("> ")? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" || line == "/exit" {
            break;
        }
        let content = if let Some(rest) = line.strip_prefix("/loc") {
            match parse_location(rest) {
                Some(l) => Content::Location(l),
                None => {
                    writeln!(out, "  (usage: /loc 31.2352,121.4800)")?;
                    continue;
                }
            }
        } else if let Some(p) = line
            .parse::<usize>()
            .ok()
            .and_then(|n| buttons.get(n.wrapping_sub(1)))
        {
            Content::Button(p.clone())
        } else {
            Content::Text(line.to_owned())
        };
        seq += 1;
        let inbound = Inbound {
            channel: Channel::Cli,
            user: args.user.clone(),
            message_id: Some(format!("{}-{seq}", std::process::id())),
            lang: args.lang,
            content,
        };
        match engine.handle(inbound).await {
            Ok(turn) => {
                buttons = print_replies(&mut out, &turn.replies)?;
            }
            Err(e) => writeln!(out, "  (error: {e})")?,
        }
    }
    Ok(())
}

/// Where the customer's lines come from. At a terminal: rustyline, so arrows move the cursor
/// over CJK text (two columns a character), backspace deletes whole characters and up/down
/// recall earlier messages. Piped input (scripts, tests) is read plainly, with no prompt
/// escape sequences in the output.
enum LineSource {
    Terminal(Box<rustyline::DefaultEditor>),
    Piped(std::io::Stdin),
}

impl LineSource {
    fn open() -> Self {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            // If the terminal cannot be driven (an exotic TERM), plain reading still works.
            if let Ok(editor) = rustyline::DefaultEditor::new() {
                return LineSource::Terminal(Box::new(editor));
            }
        }
        LineSource::Piped(stdin)
    }

    /// The next line without its line ending; `None` at end of input, Ctrl-D or Ctrl-C.
    fn next_line(&mut self, prompt: &str) -> anyhow::Result<Option<String>> {
        match self {
            LineSource::Terminal(editor) => match editor.readline(prompt) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        // Only the in-memory history; failing to record it loses nothing.
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    Ok(Some(line))
                }
                Err(
                    rustyline::error::ReadlineError::Eof
                    | rustyline::error::ReadlineError::Interrupted,
                ) => Ok(None),
                Err(e) => Err(anyhow::Error::new(e).context("reading the terminal")),
            },
            LineSource::Piped(stdin) => {
                let mut out = std::io::stdout();
                write!(out, "{prompt}")?;
                out.flush()?;
                let mut line = String::new();
                if stdin.lock().read_line(&mut line)? == 0 {
                    return Ok(None);
                }
                Ok(Some(line))
            }
        }
    }
}

fn parse_location(s: &str) -> Option<LatLon> {
    let (a, b) = s.trim().split_once(',')?;
    LatLon::new(a.trim().parse().ok()?, b.trim().parse().ok()?).ok()
}

/// Prints replies; returns the payloads of the numbered buttons.
fn print_replies(out: &mut impl Write, replies: &[Reply]) -> std::io::Result<Vec<String>> {
    let mut payloads = Vec::new();
    for r in replies {
        for line in r.text.lines() {
            writeln!(out, "  {line}")?;
        }
        for b in &r.buttons {
            payloads.push(b.payload.clone());
            writeln!(out, "    [{}] {}", payloads.len(), b.label)?;
        }
    }
    Ok(payloads)
}
