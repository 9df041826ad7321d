/** The product's version, from package.json (esbuild inlines it into the bundle). */
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
export const PRODUCT = "captcha-worker";
