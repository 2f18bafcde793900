/** Set by scripts/build-web.mjs: the versioned URL of hls.js's browser build. */
declare const __HLS_JS_URL__: string;
