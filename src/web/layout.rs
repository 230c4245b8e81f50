//! The page frame, shared pieces (times, money, messages) and the style sheet.

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use domreg_events::Money;

const STYLE: &str = r#"
:root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; }
body { margin: 0 auto; max-width: 72rem; padding: 0 1rem 3rem; line-height: 1.45; }
header nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; padding: .75rem 0; border-bottom: 1px solid #ccc; }
header nav a { text-decoration: none; }
header nav a[aria-current] { font-weight: 700; }
header nav form { margin-left: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e2e2e2; vertical-align: top; }
th a { color: inherit; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.wrap { overflow-x: auto; }
.msg { padding: .6rem .8rem; border-radius: .3rem; background: #e8f3ea; border: 1px solid #9cc9a5; }
.msg.error { background: #fbeaea; border-color: #d99; }
.warn { color: #8a4b00; font-weight: 600; }
form.inline { display: inline; }
fieldset { border: 1px solid #ccc; margin: 1rem 0; }
label { display: block; margin: .35rem 0 .1rem; }
input, select, textarea, button { font: inherit; }
button { cursor: pointer; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .75rem; }
.card { background: #fff; border: 1px solid #ddd; border-radius: .4rem; padding: .6rem .8rem; }
.card b { display: block; font-size: 1.4rem; }
pre { white-space: pre-wrap; background: #fff; border: 1px solid #ddd; padding: .75rem; }
"#;

/// Shows `<time>` elements in the browser's time zone; the UTC value stays in the title.
const LOCAL_TIMES: &str = r#"
for (const t of document.querySelectorAll('time[datetime]')) {
  const d = new Date(t.getAttribute('datetime'));
  if (!isNaN(d)) { t.textContent = d.toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'}); }
}
"#;

pub const PAGES: [(&str, &str); 7] = [
    ("/admin", "Overview"),
    ("/admin/async", "Async Manager"),
    ("/admin/ledger", "Ledger"),
    ("/admin/domains", "Domains"),
    ("/admin/audit", "Audit"),
    ("/admin/sync", "Reconciliation"),
    ("/admin/settings", "Settings"),
];

/// The pages' style sheet (served, not inlined, so the content security policy can
/// forbid inline styles and scripts).
pub async fn style() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE,
    )
}

/// The script that shows times in the admin's zone.
pub async fn local_times() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/javascript; charset=utf-8",
        )],
        LOCAL_TIMES,
    )
}

/// A whole page. `csrf` is `None` on the sign-in page.
pub fn page(title: &str, current: &str, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("{title} · domreg")))
            body {
                header {
                    nav aria-label="Main" {
                        strong { "domreg" }
                        @if let Some(csrf) = csrf {
                            @for (href, label) in PAGES {
                                @if href == current {
                                    a href=(href) aria-current="page" { (label) }
                                } @else {
                                    a href=(href) { (label) }
                                }
                            }
                            form.inline method="post" action="/admin/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
                script src="/admin/static/local-times.js" {}
            }
        }
    }
}

/// The `<head>` every page has: its title and the served style sheet.
pub fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="stylesheet" href="/admin/static/style.css";
        }
    }
}

/// A time in the admin's zone (by script), UTC on hover and without script.
pub fn time(t: &DateTime<Utc>) -> Markup {
    let utc = t.format("%Y-%m-%d %H:%M UTC").to_string();
    html! { time datetime=(t.to_rfc3339()) title=(utc) { (utc) } }
}

pub fn money(m: &Money) -> String {
    m.to_string()
}

/// A message after an action; `error` styles it as a failure.
pub fn message(text: &str, error: bool) -> Markup {
    html! {
        @if error {
            p.msg.error role="alert" { (text) }
        } @else {
            p.msg role="status" { (text) }
        }
    }
}

/// A form's hidden CSRF field.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}
