/** The plugin's defaults, apart from the server (which loads node:http/https/net): the CLI's help needs them. */

/** Where dockerd finds the plugin: a socket in /run/docker/plugins/ named after it. */
export const DEFAULT_SOCKET_PATH = '/run/docker/plugins/cnm.sock';
