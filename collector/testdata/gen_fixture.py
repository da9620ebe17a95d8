# Builds collector/testdata/signins.json and expected.prom from fixture-cases.json: the mfa
# package's hand-written cases (mfa/testdata/cases.json) as they were when the fixture was made,
# frozen because the collector tests derive their figures from this 186-row timeline. Later
# corrections of the mfa catalogue are applied to fixture-cases.json by hand (50158 from an
# external provider: result code none). Run from this directory; outputs are committed.
import json, datetime, collections
cases = json.load(open('fixture-cases.json'))['cases']
CLIENT_APP = {'Browser': 'browser', 'Mobile Apps and Desktop clients': 'mobile_desktop', 'IMAP4': 'imap'}  # the README's client-app table
epoch = datetime.datetime(2026,1,1,tzinfo=datetime.timezone.utc)
rows=[]; sig=collections.Counter(); att=collections.Counter(); unk=collections.Counter(); capp=collections.Counter()
chal=set(); fail=set()
for i,c in enumerate(cases):
    inp=c['in']; w=c['want']
    created = epoch + datetime.timedelta(seconds=10*i)
    noninter = (i % 7 == 3)
    user = 'user-%02d' % ((i * 7) % 131)
    row = {
      'id': 'fx-%04d' % i,
      'createdDateTime': created.strftime('%Y-%m-%dT%H:%M:%SZ'),
      'correlationId': 'corr-%04d' % i,
      'userId': user,
      'userPrincipalName': user + '@fixture.example',
      'appId': '00000002-0000-0ff1-ce00-000000000000',
      'appDisplayName': 'Office 365 Exchange Online',
      'clientAppUsed': ['Browser','Mobile Apps and Desktop clients','IMAP4'][i%3],
      'isInteractive': not noninter,
      'signInEventTypes': ['nonInteractiveUser' if noninter else 'interactiveUser'],
      'userType': 'member',
      'tokenIssuerType': inp.get('TokenIssuerType',''),
      'resourceId': inp.get('ResourceID',''),
      'status': {'errorCode': inp['ErrorCode'], 'failureReason': inp.get('FailureReason',''), 'additionalDetails': inp.get('AdditionalDetails','')},
      'authenticationRequirement': inp.get('AuthenticationRequirement',''),
      'authenticationDetails': [{
          'authenticationStepDateTime': created.strftime('%Y-%m-%dT%H:%M:%SZ'),
          'authenticationMethod': s.get('Method',''),
          'authenticationMethodDetail': s.get('MethodDetail',''),
          'succeeded': s.get('Succeeded', False),
          'authenticationStepResultDetail': s.get('ResultDetail',''),
          'authenticationStepRequirement': s.get('Requirement',''),
      } for s in (inp.get('Steps') or [])],
    }
    if i % 11 == 5:
        row['_late'] = True   # the test makes these visible only after the first polls
    rows.append(row)
    et = 'non_interactive' if noninter else 'interactive'
    sig[(et, w['Requirement'], w['Result'], w['Outcome'], w['ErrorCode'])] += 1
    capp[(CLIENT_APP[row['clientAppUsed']], w['Requirement'], w['Outcome'])] += 1
    if w['Outcome'] in ('satisfied','denied'):
        att[(w['Method'], w['Outcome'], w['Reason'], w['ResultCode'], w['Component'])] += 1
    for u in w.get('Unknown') or []:
        unk[u['Field']] += 1
    o=w['Outcome']
    if o in ('interrupted','denied') or (o=='satisfied' and w['Method']!='previously_satisfied' and w['Reason']!='claim_in_token' and not w['Reason'].startswith('skipped_')):
        chal.add(user)
    if o=='denied': fail.add(user)
# A duplicate: Graph occasionally returns one row twice, on different pages. Same id, one second later.
dup = json.loads(json.dumps(rows[40])); dup['createdDateTime'] = (epoch + datetime.timedelta(seconds=401)).strftime('%Y-%m-%dT%H:%M:%SZ')
rows.append(dup)
json.dump(rows, open('../../collector/testdata/signins.json','w'), indent=1)
out=[]
out.append('# HELP entra_mfa_attempts_total MFA attempts (sign-in rows whose MFA outcome is satisfied or denied), by method, outcome, reason, result code and the component that ran the MFA.')
out.append('# TYPE entra_mfa_attempts_total counter')
for k,v in sorted(att.items()):
    out.append('entra_mfa_attempts_total{component="%s",method="%s",outcome="%s",reason="%s",result_code="%s",tenant="fixture"} %d' % (k[4],k[0],k[1],k[2],k[3],v))
out.append('# HELP entra_signins_total Sign-in rows counted, by event type, authentication requirement, result, MFA outcome and sign-in error code.')
out.append('# TYPE entra_signins_total counter')
for k,v in sorted(sig.items()):
    out.append('entra_signins_total{error_code="%s",event_type="%s",mfa_outcome="%s",requirement="%s",result="%s",tenant="fixture"} %d' % (k[4],k[0],k[3],k[1],k[2],v))
out.append('# HELP entra_signins_by_client_app_total Sign-in rows counted, by client app used (normalised), authentication requirement and MFA outcome.')
out.append('# TYPE entra_signins_by_client_app_total counter')
for k,v in sorted(capp.items()):
    out.append('entra_signins_by_client_app_total{client_app="%s",mfa_outcome="%s",requirement="%s",tenant="fixture"} %d' % (k[0],k[2],k[1],v))
out.append('# HELP entra_mfa_unclassified_strings_total Strings from Graph that matched no catalogue entry and were counted as "other", by field.')
out.append('# TYPE entra_mfa_unclassified_strings_total counter')
for k,v in sorted(unk.items()):
    out.append('entra_mfa_unclassified_strings_total{field="%s",tenant="fixture"} %d' % (k,v))
out.append('# HELP entra_mfa_users_challenged Distinct users asked for a second factor (prompted, denied, or satisfied by performing a method) with a sign-in inside the trailing window.')
out.append('# TYPE entra_mfa_users_challenged gauge')
for wl in ('1d','1w'):
    out.append('entra_mfa_users_challenged{tenant="fixture",window="%s"} %d' % (wl,len(chal)))
out.append('# HELP entra_mfa_users_failed Distinct users with at least one denied MFA attempt inside the trailing window.')
out.append('# TYPE entra_mfa_users_failed gauge')
for wl in ('1d','1w'):
    out.append('entra_mfa_users_failed{tenant="fixture",window="%s"} %d' % (wl,len(fail)))
open('../../collector/testdata/expected.prom','w').write('\n'.join(out)+'\n')
print(len(rows), 'rows;', sum(sig.values()), 'signins;', sum(att.values()), 'attempts;', len(chal), len(fail), dict(unk), 'late', sum(1 for r in rows if r.get('_late')))
