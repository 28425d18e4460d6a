import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface PublicUrlSettings {
  /** `PUBLIC_API_URL`, when configured. */
  configured?: string;
  /** `serverless offline` (`IS_OFFLINE=true`): plain HTTP to the `host` header. */
  offline: boolean;
}

/** A host header we are willing to put in a link: name or IPv4/[IPv6], optional port. */
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * The public base URL of this API, without a trailing slash: `PUBLIC_API_URL`
 * when set; else, under `serverless offline`, `http://` + the `host` header;
 * else `https://` + the API Gateway domain the request came in on.
 */
export function publicBaseUrl(
  event: Pick<APIGatewayProxyEventV2, 'headers' | 'requestContext'>,
  settings: PublicUrlSettings,
): string {
  if (settings.configured) return settings.configured.replace(/\/+$/, '');
  const host = event.headers.host;
  if (settings.offline && host && HOST.test(host)) return `http://${host}`;
  return `https://${event.requestContext.domainName}`;
}
