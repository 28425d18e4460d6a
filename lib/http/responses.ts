import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ErrorCode } from '../core/errors.js';

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

/** A JSON response with the API's standard headers. */
export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

/** The API's error envelope: `{ "error": { "code", "message" } }`. */
export function errorResponse(
  statusCode: number,
  code: ErrorCode,
  message: string,
  headers: Readonly<Record<string, string>> = {},
) {
  const response = jsonResponse(statusCode, { error: { code, message } });
  return { ...response, headers: { ...response.headers, ...headers } };
}
