/**
 * The inspector's static files by path, as the endpoint serves them.
 *
 * @module
 */

import { INSPECTOR_CSS, INSPECTOR_HTML } from "./inspector_page.ts";
import { INSPECTOR_JS } from "./inspector_script.ts";

/** A static file: its content type and body. */
export interface Asset {
  /** The `Content-Type`. */
  type: string;
  /** The body. */
  body: string;
}

/** The inspector's files by path. */
export const INSPECTOR_ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/index.html", { type: "text/html; charset=utf-8", body: INSPECTOR_HTML }],
  ["/inspector.css", { type: "text/css; charset=utf-8", body: INSPECTOR_CSS }],
  ["/inspector.js", { type: "text/javascript; charset=utf-8", body: INSPECTOR_JS }],
]);
