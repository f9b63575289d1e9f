// Types of esbuild-plugins.mjs (plain JavaScript, which SST's builder loads with plain Node), for scripts/bundling.ts.
import type { Plugin } from 'esbuild'

export declare const graphqlAsEsModules: Plugin
declare const plugins: Plugin[]
export default plugins
