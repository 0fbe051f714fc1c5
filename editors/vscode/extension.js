// The OmniLisp extension's entry point: starts `omnic lsp` (the compiler's
// language server, over stdio) for every `.omni` file and stops it with the
// window. Plain JavaScript, so the folder needs no build step; the one
// dependency, `vscode-languageclient`, comes from `npm install` in this
// folder (see README.md).
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("omnilisp");
  const command = config.get("serverPath") || "omnic";
  const run = { command, args: ["lsp"], transport: TransportKind.stdio };
  const serverOptions = { run, debug: run };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "omnilisp" },
      { scheme: "untitled", language: "omnilisp" },
    ],
  };
  client = new LanguageClient("omnilisp", "OmniLisp", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("omnilisp.serverPath")) {
        vscode.window.showInformationMessage(
          "OmniLisp: reload the window to use the new omnic binary."
        );
      }
    })
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
