//! The web console's files (built by `npm run build` in `console/`), served at `/`: the
//! hashed assets under `/assets/` cached for good, every other path outside `/v1` that names
//! no file answered with `index.html` (the console routes in the browser), each sent pre-compressed (brotli,
//! then gzip) when the browser takes it, under a strict Content-Security-Policy. The files
//! are read once at start; a missing build answers a page that says how to build it.

use axum::http::header::{
    ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::path::Path;

/// What the console may load: its own files and API only.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// One file, as built and pre-compressed.
struct File {
    content_type: &'static str,
    plain: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
}

/// The console's files by path (`/index.html`, `/assets/index-....js`).
#[derive(Default)]
pub struct Console {
    files: HashMap<String, File>,
    /// Where they were looked for (told when there are none).
    dir: String,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl Console {
    /// The files under `dir` (none when it is missing: the console then says how to build it).
    pub fn load(dir: &Path) -> std::io::Result<Console> {
        let mut console = Console { files: HashMap::new(), dir: dir.display().to_string() };
        if dir.is_dir() {
            console.walk(dir, "")?;
        }
        Ok(console)
    }

    fn walk(&mut self, dir: &Path, prefix: &str) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}/{name}");
            if entry.file_type()?.is_dir() {
                self.walk(&entry.path(), &path)?;
            } else if !name.ends_with(".br") && !name.ends_with(".gz") {
                let read = |suffix: &str| std::fs::read(dir.join(format!("{name}{suffix}"))).ok().map(Bytes::from);
                let file = File {
                    content_type: content_type(&name),
                    plain: Bytes::from(std::fs::read(entry.path())?),
                    brotli: read(".br"),
                    gzip: read(".gz"),
                };
                self.files.insert(path, file);
            }
        }
        Ok(())
    }

    /// Whether a build was found.
    pub fn is_built(&self) -> bool {
        self.files.contains_key("/index.html")
    }

    /// The answer to `method uri` (any path the API does not own): a file for GET and HEAD;
    /// index.html for a path that names no file (the console's own routes).
    pub fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return (StatusCode::METHOD_NOT_ALLOWED, [(ALLOW, "GET, HEAD")], "the console's pages are read with GET")
                .into_response();
        }
        let path = uri.path();
        // A file the build does not have is missing, not a page of the console.
        let asset = path.starts_with("/assets/") || path.rsplit('/').next().is_some_and(|last| last.contains('.'));
        let (file, immutable) = match self.files.get(path) {
            Some(file) if path != "/index.html" => (file, asset),
            _ if asset => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
            _ => match self.files.get("/index.html") {
                Some(index) => (index, false),
                None => return self.unbuilt(),
            },
        };
        let accepts = headers.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let takes = |coding: &str| accepts.split(',').any(|c| accepted(c, coding));
        let (body, coding) = match (&file.brotli, &file.gzip) {
            (Some(br), _) if takes("br") => (br.clone(), Some("br")),
            (_, Some(gz)) if takes("gzip") => (gz.clone(), Some("gzip")),
            _ => (file.plain.clone(), None),
        };
        let mut response = body.into_response();
        let h = response.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(file.content_type));
        h.insert(VARY, HeaderValue::from_static("accept-encoding"));
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static(if immutable { "public, max-age=31536000, immutable" } else { "no-cache" }),
        );
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        if let Some(coding) = coding {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        response
    }

    fn unbuilt(&self) -> Response {
        let page = format!(
            "<!doctype html><meta charset=utf-8><title>HCP console not built</title>\
             <h1>The console is not built</h1><p>No <code>index.html</code> in <code>{}</code>. \
             Build it with <code>make console</code> (Node.js and npm), or point \
             <code>gateway.console_dir</code> at a build. The API is at <a href=\"/docs\">/docs</a>.</p>",
            html_escape(&self.dir)
        );
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, page).into_response();
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        response
    }
}

/// Whether one `Accept-Encoding` item takes `coding` (`br`, `br;q=0.5`; not `br;q=0`).
fn accepted(item: &str, coding: &str) -> bool {
    let mut parts = item.split(';').map(str::trim);
    if parts.next() != Some(coding) {
        return false;
    }
    parts.filter_map(|p| p.strip_prefix("q=")).all(|q| q.parse::<f32>().map_or(true, |q| q > 0.0))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
