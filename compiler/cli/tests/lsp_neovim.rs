//! `pol lsp` driven by a real LSP client: Neovim (Debian's `neovim`, which `.ci/run` installs)
//! in headless mode with its built-in client opens a scheme with a mistake and writes down the
//! diagnostics it received.

mod common;

use common::{GUANGDONG, repo};
use std::path::PathBuf;
use std::process::Command;

const PROBE: &str = r#"
local bin, file, out, cwd = os.getenv('POL_BIN'), os.getenv('POL_FILE'), os.getenv('POL_OUT'), os.getenv('POL_CWD')
vim.cmd('edit ' .. vim.fn.fnameescape(file))
local client = vim.lsp.start_client({ name = 'pol', cmd = { bin, 'lsp' }, cmd_cwd = cwd, root_dir = cwd })
vim.lsp.buf_attach_client(0, client)
local got = vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local lines = {}
if not got then table.insert(lines, 'TIMEOUT') end
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or ''
  table.insert(lines, string.format('%d\t%s\t%s', d.lnum + 1, code, (d.message:gsub('\n', ' '))))
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(client)
vim.cmd('qa!')
"#;

fn neovim() -> PathBuf {
    let path = std::env::var_os("POL_NEOVIM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/nvim"));
    assert!(path.exists(), "no Neovim at {}: install Debian's neovim (.ci/run does), or set POL_NEOVIM", path.display());
    path
}

#[test]
fn neovim_receives_the_diagnostics_of_a_scheme_with_a_mistake() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = std::fs::read_to_string(repo().join(GUANGDONG)).expect("scheme");
    let broken = text.replacen("= 定额\n", "= 定额金额\n", 1);
    let line = broken[..broken.find("= 定额金额").expect("the mistake")].matches('\n').count() + 1;
    let file = dir.path().join("broken.pol");
    std::fs::write(&file, &broken).expect("write");
    let probe = dir.path().join("probe.lua");
    std::fs::write(&probe, PROBE).expect("probe");
    let out = dir.path().join("diagnostics.txt");
    let status = Command::new(neovim())
        .args(["--headless", "--clean", "-c"])
        .arg(format!("luafile {}", probe.display()))
        .env("POL_BIN", env!("CARGO_BIN_EXE_pol"))
        .env("POL_FILE", &file)
        .env("POL_OUT", &out)
        .env("POL_CWD", repo())
        .current_dir(dir.path())
        .status()
        .expect("nvim runs");
    assert!(status.success(), "nvim exited with {status}");
    let received = std::fs::read_to_string(&out).expect("the probe wrote the diagnostics");
    let first = received.lines().next().unwrap_or("");
    let fields: Vec<&str> = first.split('\t').collect();
    assert_eq!(fields.len(), 3, "{received}");
    assert_eq!(fields[0], line.to_string(), "{received}");
    assert_eq!(fields[1], "E0101", "{received}");
    assert!(fields[2].contains("定额金额") && fields[2].contains("did you mean `定额调整`"), "{received}");
}
