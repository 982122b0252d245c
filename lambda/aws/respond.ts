import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';

/** PUTs the answer to the pre-signed ResponseURL (https on AWS; http only for local test doubles). */
export async function respond(
  event: CloudFormationCustomResourceEvent, response: CloudFormationCustomResourceResponse, timeoutMs: number,
): Promise<void> {
  const body = JSON.stringify(response);
  const url = new URL(event.ResponseURL);
  const send = url.protocol === 'https:' ? request : httpRequest;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const req = send(url, {
          method: 'PUT',
          // S3 verifies the signature against an empty content type.
          headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
          timeout: Math.max(1, deadline - Date.now()),
        }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)));
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end(body);
      });
      return;
    } catch (err) {
      if (attempt >= 3 || Date.now() + 1000 > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}
