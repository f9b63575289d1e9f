// unit: the Signature Version 4 signer behind the admin tool's STS call, against AWS's published examples.
import { describe, expect, it } from 'vitest'
import { signV4 } from '../../cli/aws-identity.ts'

const EXAMPLE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }

describe('Signature Version 4', () => {
  it("signs AWS's example POST (IAM ListUsers, 2011-09-09) to its published signature", () => {
    const headers = signV4(
      {
        method: 'POST',
        url: new URL('http://iam.amazonaws.com/'),
        headers: FORM,
        body: 'Action=ListUsers&Version=2010-05-08',
      },
      EXAMPLE,
      { region: 'us-east-1', service: 'iam', now: new Date('2011-09-09T23:36:00Z') },
    )
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c',
    )
    expect(headers['x-amz-date']).toBe('20110909T233600Z')
  })

  it("signs AWS's example GET (IAM ListUsers, 2015-08-30) to its published signature", () => {
    const headers = signV4(
      {
        method: 'GET',
        url: new URL('https://iam.amazonaws.com/?Version=2010-05-08&Action=ListUsers'),
        headers: FORM,
        body: '',
      },
      EXAMPLE,
      { region: 'us-east-1', service: 'iam', now: new Date('2015-08-30T12:36:00Z') },
    )
    expect(headers.authorization).toMatch(/Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7$/)
  })

  it('signs the session token of temporary credentials', () => {
    const headers = signV4(
      { method: 'POST', url: new URL('https://sts.eu-west-1.amazonaws.com/'), headers: FORM, body: 'x' },
      { ...EXAMPLE, sessionToken: 'token' },
      { region: 'eu-west-1', service: 'sts', now: new Date('2030-01-01T00:00:00Z') },
    )
    expect(headers['x-amz-security-token']).toBe('token')
    expect(headers.authorization).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,')
  })
})
