import './base.css';
import './jobs.css';
import './models.css';
import './explorer.css';
import './usage.css';
