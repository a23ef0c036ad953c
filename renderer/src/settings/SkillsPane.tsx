import { CircleAlert, ShieldAlert } from 'lucide-react';
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SkillReviewView, SkillView } from '../../../main/common/ipc.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { clockTime } from '../shared/format.js';
import { usePavise } from '../store/store.js';
import { Group } from './Form.js';
import { McpServers } from './McpServers.js';
import { SecretField } from './SecretField.js';

const STATE_WORDS: Readonly<Record<SkillView['state'], string>> = {
  enabled: 'On',
  disabled: 'Off',
  changed: 'Changed on disk — needs review',
};

/** Installed skills: state, what each may do, recent activity, Enable / Disable / Remove, and the review sheet. */
export function SkillsPane() {
  const skills = usePavise(useShallow((state) => state.skills));
  const error = usePavise((state) => state.skillsError);
  const review = usePavise((state) => state.review);
  const loadSkills = usePavise((state) => state.loadSkills);
  const pickSkill = usePavise((state) => state.pickSkill);
  useEffect(() => {
    void loadSkills();
  }, [loadSkills]);
  return (
    <div className="skills">
      {error ? (
        <p className="inline-error" role="alert">
          <CircleAlert size={12} strokeWidth={2} aria-hidden />
          {error}
        </p>
      ) : null}
      <Group
        title="Installed skills"
        description="Each skill runs boxed in with only what you granted, pinned to the exact content you reviewed."
        footer={
          <button type="button" className="btn" onClick={() => void pickSkill()}>
            Install…
          </button>
        }
      >
        {skills.length === 0 ? (
          <div className="row">
            <p className="secondary empty-row">No skills installed. Nothing loads just because a folder exists.</p>
          </div>
        ) : (
          skills.map((skill) => <SkillRow key={skill.name} skill={skill} />)
        )}
      </Group>
      <McpServers />
      {review ? <ReviewSheet key={`${review.name}:${review.hash}`} review={review} /> : null}
    </div>
  );
}

function SkillRow({ skill }: { readonly skill: SkillView }) {
  const setEnabled = usePavise((state) => state.setSkillEnabled);
  const remove = usePavise((state) => state.removeSkill);
  const openReview = usePavise((state) => state.openReview);
  return (
    <div className={`row skill skill-${skill.state}`} data-skill={skill.name}>
      <div className="row-main">
        <span className="row-label wide">
          <strong>{skill.name}</strong> <span className={`skill-state state-${skill.state}`}>{STATE_WORDS[skill.state]}</span>
        </span>
        <div className="row-control">
          {skill.state === 'changed' ? (
            <button type="button" className="btn btn-default" onClick={() => void openReview(skill.name)}>
              Review…
            </button>
          ) : (
            <button type="button" className="btn" onClick={() => void setEnabled(skill.name, skill.state !== 'enabled')}>
              {skill.state === 'enabled' ? 'Disable' : 'Enable'}
            </button>
          )}
          <button type="button" className="btn" onClick={() => void remove(skill.name)} aria-label={`Remove ${skill.name}`}>
            Remove
          </button>
        </div>
      </div>
      <p className="row-help">
        May: {skill.granted.length === 0 ? 'nothing beyond answering (no network, files, secrets or programs)' : skill.granted.join(', ')} · pinned{' '}
        <code title={skill.hash}>{skill.hash.slice(0, 12)}…</code>
      </p>
      {skill.secrets.length > 0 ? <SkillSettings skill={skill} /> : null}
      {skill.recent.length > 0 ? (
        <ul className="skill-activity" aria-label={`Recent activity of ${skill.name}`}>
          {skill.recent.map((item) => (
            <li key={item.id}>
              <time dateTime={new Date(item.ts).toISOString()}>{clockTime(item.ts)}</time> {revealInvisible(item.summary)}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The secrets granted to a skill: typed here, kept in the Keychain, filled in by the host as its requests leave. */
function SkillSettings({ skill }: { readonly skill: SkillView }) {
  const setSkillSecret = usePavise((state) => state.setSkillSecret);
  const removeSkillSecret = usePavise((state) => state.removeSkillSecret);
  return (
    <div className="skill-settings" aria-label={`Settings of ${skill.name}`} role="group">
      {skill.secrets.map((secret) => (
        <div className="skill-secret" key={secret.name}>
          <label className="row-help" htmlFor={`skill-secret-${skill.name}-${secret.name}`}>
            Secret <code>{secret.name}</code>
          </label>
          <SecretField
            id={`skill-secret-${skill.name}-${secret.name}`}
            name={secret.name}
            label={`${secret.name} for ${skill.name}`}
            stored={secret.stored}
            store={{ set: (value) => setSkillSecret(skill.name, secret.name, value), remove: () => removeSkillSecret(skill.name, secret.name) }}
          />
        </div>
      ))}
    </div>
  );
}

function ReviewSheet({ review }: { readonly review: SkillReviewView }) {
  const close = usePavise((state) => state.closeReview);
  const trust = usePavise((state) => state.trustReviewed);
  const install = usePavise((state) => state.installReviewed);
  const [granted, setGranted] = useState<readonly string[]>(review.asked);
  const installing = review.path !== undefined;
  return (
    <div className="review-sheet" role="dialog" aria-modal="true" aria-labelledby="review-title">
      <h2 id="review-title">
        <ShieldAlert size={16} strokeWidth={1.75} aria-hidden /> {review.path !== undefined ? 'Install' : 'Review'} “{review.name}”
      </h2>
      <p>{revealInvisible(review.description)}</p>
      <p className="secondary">
        {review.kind === 'code' ? 'Code skill' : 'Instructions only'} · author {review.author ?? 'not given'} · licence {review.license ?? 'not given'}
      </p>
      {installing ? (
        <p>
          From <code>{review.path}</code>; its content hashes to <code>{review.hash}</code>.
        </p>
      ) : (
        <p>
          Its files now hash to <code>{review.hash}</code>; you reviewed <code>{review.pinnedHash}</code>.
        </p>
      )}
      <h3>Asks for</h3>
      {review.asked.length === 0 ? <p>Nothing.</p> : null}
      {installing ? (
        <ul className="grants">
          {review.asked.map((id) => (
            <li key={id}>
              <label>
                <input type="checkbox" checked={granted.includes(id)} onChange={(event) => setGranted(event.target.checked ? [...granted, id] : granted.filter((item) => item !== id))} /> {id}
              </label>
            </li>
          ))}
        </ul>
      ) : (
        <p>{review.asked.join(', ')}</p>
      )}
      <h3>Scan</h3>
      {review.findings.length === 0 ? (
        <p>Nothing found.</p>
      ) : (
        <ul className="findings">
          {review.findings.map((finding, index) => (
            <li key={index} className={`finding-${finding.severity}`}>
              <strong>{finding.severity === 'danger' ? 'Danger' : 'Warning'}:</strong> {finding.rule} — {finding.where} <code>{revealInvisible(finding.excerpt)}</code>
            </li>
          ))}
        </ul>
      )}
      <h3>Files ({review.files.length})</h3>
      <ul className="review-files">
        {review.files.map((file) => (
          <li key={file.path}>
            <code>{file.path}</code> {file.size} bytes
          </li>
        ))}
      </ul>
      <div className="review-actions">
        <button type="button" className="btn" onClick={close}>
          {installing ? 'Cancel' : 'Keep it off'}
        </button>
        {installing ? (
          <button type="button" className="btn btn-default" onClick={() => void install(granted)}>
            Install with {granted.length === review.asked.length ? 'these permissions' : `${granted.length} of ${review.asked.length} permissions`}
          </button>
        ) : (
          <button type="button" className="btn btn-default" onClick={() => void trust()}>
            Trust this content and turn it on
          </button>
        )}
      </div>
    </div>
  );
}
