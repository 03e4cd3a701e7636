// Types for chromium-path.mjs (kept as plain JS so bare Node can run it).
export declare function which(name: string): string | undefined;
export declare function findChromium(): string | undefined;
export declare const CHROMIUM_ARGS: string[];
